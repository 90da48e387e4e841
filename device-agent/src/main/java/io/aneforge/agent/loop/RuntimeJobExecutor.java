package io.aneforge.agent.loop;

import io.aneforge.agent.bench.BenchmarkException;
import io.aneforge.agent.bench.BenchmarkRun;
import io.aneforge.agent.bench.BenchmarkRunner;
import io.aneforge.agent.bench.Provenance;
import io.aneforge.agent.cache.ArtifactCache;
import io.aneforge.agent.cache.ArtifactCacheException;
import io.aneforge.agent.cache.CachedArtifact;
import io.aneforge.agent.cache.DiskTrouble;
import io.aneforge.agent.cache.Fault;
import io.aneforge.agent.golden.GoldenComparison;
import io.aneforge.agent.golden.GoldenException;
import io.aneforge.agent.golden.GoldenStore;
import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.watchdog.RuntimeCallWatch;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.tensor.FloatTensor;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs jobs for real: the artifact from the {@link ArtifactCache} (digest verified), the golden
 * samples from the {@link GoldenStore}, then
 * <ul>
 *   <li>benchmark: {@link BenchmarkRunner} on the first golden sample with the job's compute
 *       units; the first prediction's outputs are compared with that sample's golden outputs;
 *   <li>accuracy: every golden sample through the runtime (the reference CPU runtime), all outputs
 *       compared with the golden outputs; each sample's outputs are cut to what the comparison reads as soon as it
 *       has run ({@link GoldenComparison#add}), so one sample's whole outputs are held at a time.
 * </ul>
 * Both compare on real tokens only ({@link GoldenComparison}: the golden inputs' {@code attention_mask}),
 * as {@code convert} and {@code eval} do, so a gate means the same number wherever it was measured.
 * Every problem of the job itself (a blob corrupt twice, an invalid archive, unknown runtime, load or
 * prediction error, outputs that do not match the golden shapes) becomes a failed report whose message
 * names it. A problem that is not the job's (a download that timed out, was cut short or got a 5xx; a
 * full disk) throws {@link TransientJobException}: the loop releases the job for a later try. Every runtime call
 * is timed by a {@link RuntimeCallWatch}: one that runs past its bound is reported by {@link #overrunningCall()}.
 */
public final class RuntimeJobExecutor implements JobExecutor {

    private final ArtifactCache cache;
    private final GoldenStore golden;
    private final Map<String, ModelRuntime> runtimes = new LinkedHashMap<>();
    private final BenchmarkRunner runner;
    private final HostFacts host;
    private final Clock clock;
    private final RuntimeCallWatch watch;

    public RuntimeJobExecutor(ArtifactCache cache, GoldenStore golden, List<ModelRuntime> runtimes, BenchmarkRunner runner,
            HostFacts host, Clock clock, RuntimeCallWatch watch) {
        this.watch = watch;
        this.cache = cache;
        this.golden = golden;
        for (ModelRuntime r : runtimes) {
            this.runtimes.putIfAbsent(r.id(), r);
        }
        this.runner = runner;
        this.host = host;
        this.clock = clock;
    }

    @Override
    public JobReport execute(JobLease lease) {
        ModelRuntime offered = runtimes.get(lease.runtimeId());
        if (offered == null) {
            return JobReport.failed(lease, "runtime '" + lease.runtimeId() + "' is not offered by agent " + host.hostName()
                    + " (offers " + runtimes.keySet() + ")");
        }
        ModelRuntime runtime = watch.around(offered, lease.kind().name().toLowerCase(java.util.Locale.ROOT) + " job "
                + lease.jobId() + " (model " + lease.model() + " version " + lease.version() + ", variant "
                + lease.variantId() + ", artifact " + lease.artifact().digest() + ")");
        CachedArtifact artifact;
        GoldenOutputs inputs;
        GoldenOutputs outputs;
        try {
            artifact = cache.get(lease.artifact());
            inputs = golden.inputs(lease.goldenInputs()); // bounded as expanded: they are fed to the model
            outputs = golden.get(lease.goldenOutputs());
        } catch (ArtifactCacheException e) {
            return verdict(lease, e.fault(), e.getMessage(), e);
        } catch (GoldenException e) {
            return verdict(lease, e.fault(), e.getMessage(), e);
        }
        try {
            return lease.kind() == JobLease.Kind.BENCHMARK
                    ? benchmark(lease, runtime, artifact, inputs, outputs)
                    : accuracy(lease, runtime, artifact, inputs, outputs);
        } catch (BenchmarkException | RuntimeLoadException | IllegalArgumentException e) {
            // A runtime that writes (Core ML compiles into the agent's cache) can hit a full disk: not the model's fault.
            return verdict(lease, DiskTrouble.in(e) ? Fault.HOST : Fault.ARTIFACT, failed(lease, runtime, e), e);
        } catch (GoldenException e) { // the variant's outputs to keep for the comparison would pass golden-max-memory
            return verdict(lease, e.fault(), failed(lease, runtime, e), e);
        }
    }

    private static String failed(JobLease lease, ModelRuntime runtime, RuntimeException e) {
        return lease.kind().name().toLowerCase(java.util.Locale.ROOT) + " of " + lease.artifact().digest() + " on "
                + runtime.id() + " failed: " + e.getMessage();
    }

    /** The cache's view of this host: can it write into the artifact cache now? */
    @Override
    public Optional<String> hostProblem() {
        return cache.writeProblem();
    }

    /** The runtime call of the job in hand that has run longer than {@code aneforge.agent.max-runtime-call}. */
    @Override
    public Optional<String> overrunningCall() {
        return watch.overrun();
    }

    /** A failed report when the job's input is at fault; otherwise the job is released for a later try. */
    private static JobReport verdict(JobLease lease, Fault fault, String why, RuntimeException e) {
        return switch (fault) {
            case ARTIFACT -> JobReport.failed(lease, why);
            case TRANSFER -> throw new TransientJobException(why, false, e);
            case HOST -> throw new TransientJobException(why, true, e);
        };
    }

    private JobReport benchmark(JobLease lease, ModelRuntime runtime, CachedArtifact artifact, GoldenOutputs inputs,
            GoldenOutputs outputs) {
        GoldenOutputs.Sample sample = inputs.samples().get(0);
        BenchmarkRun run = runner.run(runtime, artifact.packageRoot(), lease.artifact().digest(), sample.outputs(),
                lease.options(), lease.protocol(), host);
        Map<String, FidelityReport> fidelity = GoldenComparison.compare(only(outputs, sample.id()), inputs,
                Map.of(sample.id(), run.firstOutputs()));
        return JobReport.succeeded(lease, run.result().provenance(), run.result(), fidelity);
    }

    private JobReport accuracy(JobLease lease, ModelRuntime runtime, CachedArtifact artifact, GoldenOutputs inputs,
            GoldenOutputs outputs) {
        Provenance provenance = new Provenance(host, runtime.id(), runtime.version(), lease.options(),
                lease.artifact().digest(), clock.instant());
        GoldenComparison comparison = new GoldenComparison(outputs, inputs,
                inputs.samples().stream().map(GoldenOutputs.Sample::id).toList(), golden.maxBytes());
        try (LoadedModel model = runtime.load(artifact.packageRoot(), lease.options())) {
            for (GoldenOutputs.Sample s : inputs.samples()) {
                Map<String, FloatTensor> produced;
                try {
                    produced = model.predict(s.outputs());
                } catch (RuntimeException e) {
                    throw new BenchmarkException("prediction of golden sample '" + s.id() + "' failed: " + e.getMessage(), e);
                }
                // What the comparison reads is kept, the whole outputs are dropped before the next sample runs: all
                // 32 samples' GPT-2 logits at seq 128 are 823 MB, the parts kept what the golden data holds.
                comparison.add(s.id(), produced);
            }
        }
        return JobReport.succeeded(lease, provenance, null, comparison.reports());
    }

    private static GoldenOutputs only(GoldenOutputs all, String id) {
        for (GoldenOutputs.Sample s : all.samples()) {
            if (s.id().equals(id)) {
                return new GoldenOutputs(List.of(s));
            }
        }
        throw new IllegalArgumentException("the golden outputs have no sample '" + id + "' (the golden inputs do);"
                + " the two golden blobs of this version do not belong together");
    }
}

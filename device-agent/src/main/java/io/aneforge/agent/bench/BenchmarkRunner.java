package io.aneforge.agent.bench;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Measures one package on one runtime following a {@link BenchmarkProtocol}:
 *
 * <ol>
 *   <li>reset the peak-RSS mark (where the OS allows), then load: for Core ML this compiles
 *       the package or reuses the compiled model cached for this OS build;
 *   <li>the first prediction, timed on its own (device specialization happens here);
 *   <li>warm-up predictions, untimed;
 *   <li>timed predictions, each timed on its own with {@link System#nanoTime()}.
 * </ol>
 *
 * The time budget ({@code maxDuration}) starts after the first prediction and covers warm-up
 * and timed iterations; when it runs out the run stops, but at least one timed prediction is
 * always made so the result has a latency. Not thread-safe; one run at a time.
 */
public final class BenchmarkRunner {

    private final PeakMemory memory;
    private final LongSupplier nanoTime;
    private final Clock clock;

    public BenchmarkRunner(PeakMemory memory) {
        this(memory, System::nanoTime, Clock.systemUTC());
    }

    BenchmarkRunner(PeakMemory memory, LongSupplier nanoTime, Clock clock) {
        this.memory = memory;
        this.nanoTime = nanoTime;
        this.clock = clock;
    }

    /**
     * @param artifactDigest {@code sha256:<hex>} recorded in the provenance, or null for a local package
     * @throws BenchmarkException when the runtime is unavailable, the package does not load or a prediction fails
     */
    public BenchmarkRun run(ModelRuntime runtime, Path mlpackage, String artifactDigest,
            Map<String, FloatTensor> inputs, RuntimeOptions options, BenchmarkProtocol protocol, HostFacts host) {
        if (!runtime.isAvailable()) {
            throw new BenchmarkException("runtime '" + runtime.id() + "' is not available on host " + host.hostName()
                    + " (" + host.osName() + " " + host.arch() + "); offer it only where it runs");
        }
        Provenance provenance = new Provenance(host, runtime.id(), runtime.version(), options, artifactDigest,
                clock.instant());
        boolean peakReset = memory.resetPeak();

        long t0 = nanoTime.getAsLong();
        LoadedModel model;
        try {
            model = runtime.load(mlpackage, options);
        } catch (RuntimeLoadException e) {
            throw new BenchmarkException("runtime '" + runtime.id() + "' could not load " + mlpackage + ": "
                    + e.getMessage(), e);
        }
        long loadNanos = nanoTime.getAsLong() - t0;
        try (model) {
            long t1 = nanoTime.getAsLong();
            Map<String, FloatTensor> firstOutputs = predict(model, inputs, runtime, mlpackage, "first");
            long firstNanos = nanoTime.getAsLong() - t1;

            long deadline = nanoTime.getAsLong() + protocol.maxDuration().toNanos();
            int warmups = 0;
            while (warmups < protocol.warmupIterations() && nanoTime.getAsLong() - deadline < 0) {
                predict(model, inputs, runtime, mlpackage, "warm-up " + (warmups + 1));
                warmups++;
            }
            long[] timed = new long[protocol.timedIterations()];
            int n = 0;
            while (n < timed.length && (n == 0 || nanoTime.getAsLong() - deadline < 0)) {
                long s = nanoTime.getAsLong();
                predict(model, inputs, runtime, mlpackage, "timed " + (n + 1));
                timed[n++] = nanoTime.getAsLong() - s;
            }
            long[] samples = java.util.Arrays.copyOf(timed, n);
            BenchmarkResult result = new BenchmarkResult(provenance, protocol, loadNanos / 1e6, firstNanos / 1e6,
                    warmups, LatencyStats.ofNanos(samples), n < protocol.timedIterations(), memory.peakBytes(),
                    peakReset);
            return new BenchmarkRun(result, firstOutputs);
        }
    }

    private static Map<String, FloatTensor> predict(LoadedModel model, Map<String, FloatTensor> inputs,
            ModelRuntime runtime, Path mlpackage, String which) {
        try {
            return model.predict(inputs);
        } catch (RuntimeException e) {
            throw new BenchmarkException("runtime '" + runtime.id() + "' failed the " + which + " prediction of "
                    + mlpackage + ": " + e.getMessage(), e);
        }
    }
}

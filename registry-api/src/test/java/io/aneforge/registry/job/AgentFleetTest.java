package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.bench.BenchmarkResult;
import io.aneforge.agent.bench.BenchmarkRunner;
import io.aneforge.agent.bench.LatencyStats;
import io.aneforge.agent.bench.PeakMemory;
import io.aneforge.agent.bench.Provenance;
import io.aneforge.agent.cache.ArtifactCache;
import io.aneforge.agent.cache.HttpArtifactSource;
import io.aneforge.agent.cache.UnzipLimits;
import io.aneforge.agent.golden.GoldenStore;
import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.loop.AgentLoop;
import io.aneforge.agent.loop.JobExecutor;
import io.aneforge.agent.loop.RuntimeJobExecutor;
import io.aneforge.agent.registry.HttpRegistryClient;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.watchdog.RuntimeCallWatch;
import io.aneforge.eval.FidelityReport;
import io.aneforge.registry.blob.Blob;
import io.aneforge.registry.storage.BlobStorage;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * The real device-agent loop and HTTP client against the real registry: many agents, a crashed
 * agent, a tampered artifact, a graceful drain and the real executor (with a stand-in runtime).
 * Each test uses its own chip so leftovers of other tests never match its agents.
 */
class AgentFleetTest extends JobTestSupport {

    private static final Duration LEASE_WAIT = Duration.ofMillis(500);
    private static final Duration BACKOFF = Duration.ofMillis(200);

    @Autowired
    BlobStorage storage;

    @TempDir
    Path tmp;

    private HttpRegistryClient client() {
        return new HttpRegistryClient(URI.create("http://127.0.0.1:" + port), agentToken(), Duration.ofSeconds(30));
    }

    static HostFacts host(String name, String chip, String... runtimes) {
        return new HostFacts(name, "macOS", "15.1", "24B83", "arm64", "Apple " + chip, 16L << 30, chip, List.of(runtimes));
    }

    /** A trivial executor: a plausible, valid report without running anything. */
    static JobReport fakeReport(JobLease lease, HostFacts host) {
        Provenance p = new Provenance(host, lease.runtimeId(), "test-runtime-1", lease.options(), lease.artifact().digest(),
                Instant.now());
        BenchmarkResult bench = null;
        if (lease.kind() == JobLease.Kind.BENCHMARK) {
            BenchmarkProtocol protocol = lease.protocol();
            long[] nanos = new long[protocol.timedIterations()];
            for (int i = 0; i < nanos.length; i++) nanos[i] = 1_000_000 + 1_000L * i;
            bench = new BenchmarkResult(p, protocol, 12.5, 3.0, protocol.warmupIterations(), LatencyStats.ofNanos(nanos),
                    false, -1, false);
        }
        return JobReport.succeeded(lease, p, bench,
                Map.of("last_hidden_state", new FidelityReport(4, 384, 0.99995, 0.9999, 0.99998, 0.01, 0.001, 60, null)));
    }

    private int versionWithVariants(String model, String chip, int variants, List<String> computeUnits) {
        createModel(model);
        int v = createVersion(model);
        for (int i = 1; i <= variants; i++) {
            // one package per sequence length: the registry checks the declared seqLen against the package's input
            String digest = upload(mlpackage(model, i + 1));
            Map<String, Object> body = new HashMap<>(Map.of("chip", chip, "deploymentTarget", "18.0", "layout", "ane",
                    "precision", "fp16", "seqLen", i + 1, "digest", digest));
            if (computeUnits != null) body.put("computeUnits", computeUnits);
            Response r = send("POST", "/api/v1/models/" + model + "/versions/" + v + "/variants", publisher(), body);
            assertThat(r.status()).as(r.text()).isEqualTo(201);
        }
        setGolden(model, v);
        return v;
    }

    private JsonNode awaitJobs(String model, int version, Predicate<JsonNode> done, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode jobs = jobs(model, version);
        while (!allMatch(jobs, done) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            jobs = jobs(model, version);
        }
        assertThat(allMatch(jobs, done)).as("jobs of " + model + " in time: " + jobs).isTrue();
        return jobs;
    }

    private static boolean allMatch(JsonNode jobs, Predicate<JsonNode> p) {
        for (JsonNode j : jobs) if (!p.test(j)) return false;
        return true;
    }

    private static void drainAll(List<AgentLoop> loops) {
        CompletableFuture.allOf(loops.stream().map(l -> CompletableFuture.runAsync(() -> l.drain(Duration.ofSeconds(5))))
                .toArray(CompletableFuture[]::new)).join();
    }

    @Test
    void twentyAgentsRunTwoHundredJobsEachExactlyOnce() throws Exception {
        int v = versionWithVariants("fleet", "A15", 40, null); // 40 variants x (4 benchmarks + 1 accuracy)
        assertThat(jobs("fleet", v)).hasSize(200);
        Map<Long, AtomicInteger> runs = new ConcurrentHashMap<>();
        List<AgentLoop> loops = new ArrayList<>();
        HttpRegistryClient client = client();
        for (int i = 0; i < 20; i++) {
            HostFacts h = host(String.format("fleet-%02d", i), "A15", "coreml", "reference-cpu");
            JobExecutor trivial = lease -> {
                runs.computeIfAbsent(Long.parseLong(lease.jobId()), k -> new AtomicInteger()).incrementAndGet();
                return fakeReport(lease, h);
            };
            AgentLoop loop = new AgentLoop(client, h, trivial, LEASE_WAIT, BACKOFF);
            loops.add(loop);
            loop.start();
        }
        try {
            JsonNode jobs = awaitJobs("fleet", v, j -> j.path("state").asString().equals("succeeded"), Duration.ofSeconds(90));
            // Exactly one accepted result per job, none lost. A job runs twice only when its lease
            // expired in between (2 s leases on a loaded machine): then it shows one attempt per run.
            for (JsonNode j : jobs) {
                AtomicInteger n = runs.get(j.path("id").asLong());
                assertThat(n).as("runs of job " + j.path("id")).isNotNull();
                assertThat(j.path("attempts").asInt()).as("attempts of job " + j.path("id")).isEqualTo(n.get());
            }
            JsonNode results = results("fleet", v);
            assertThat(results).hasSize(200);
            java.util.Set<Long> jobIds = new java.util.HashSet<>();
            java.util.Set<String> hosts = new java.util.TreeSet<>();
            for (JsonNode r : results) {
                assertThat(r.path("outcome").asString()).isEqualTo("succeeded");
                assertThat(jobIds.add(r.path("jobId").asLong())).as("one result for job " + r.path("jobId")).isTrue();
                hosts.add(r.path("provenance").path("hostName").asString());
            }
            long rerun = runs.values().stream().filter(n -> n.get() > 1).count();
            System.out.println("fleet: 200 jobs, " + rerun + " re-run after an expired lease");
            assertThat(hosts).allMatch(h -> h.startsWith("fleet-")).hasSizeGreaterThan(1);
        } finally {
            drainAll(loops);
        }
        assertThat(get("/api/v1/agents", reader()).json()).filteredOn(a -> a.path("hostName").asString().startsWith("fleet-"))
                .hasSize(20).allMatch(a -> a.path("state").asString().equals("draining"));
    }

    @Test
    void aJobOfAKilledAgentIsCompletedByAnotherAfterTheLeaseExpires() throws Exception {
        int v = versionWithVariants("crash", "A18", 1, List.of("cpuAndNeuralEngine"));
        CountDownLatch started = new CountDownLatch(1);
        HostFacts doomedHost = host("crash-a", "A18", "coreml");
        AgentLoop doomed = new AgentLoop(client(), doomedHost, lease -> {
            started.countDown();
            Thread.sleep(Long.MAX_VALUE); // "working" until killed
            throw new IllegalStateException("unreachable");
        }, LEASE_WAIT, BACKOFF);
        doomed.start();
        assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
        doomed.halt(); // like kill -9: no release, no report, no more heartbeats

        HostFacts survivorHost = host("crash-b", "A18", "coreml");
        AgentLoop survivor = new AgentLoop(client(), survivorHost, lease -> fakeReport(lease, survivorHost), LEASE_WAIT, BACKOFF);
        survivor.start();
        try {
            JsonNode jobs = awaitJobs("crash", v, j -> !j.path("kind").asString().equals("benchmark")
                    || j.path("state").asString().equals("succeeded"), Duration.ofSeconds(30));
            JsonNode bench = jobs.get(0);
            assertThat(bench.path("attempts").asInt()).isEqualTo(2);
            JsonNode results = results("crash", v);
            assertThat(results).hasSize(1);
            assertThat(results.get(0).path("attempt").asInt()).isEqualTo(2);
            assertThat(results.get(0).path("provenance").path("hostName").asString()).isEqualTo("crash-b");
        } finally {
            survivor.drain(Duration.ofSeconds(5));
        }
    }

    @Test
    void aTamperedArtifactFailsTheJobAndTheCacheKeepsNothing() throws Exception {
        int v = versionWithVariants("tamper", "A18_PRO", 1, List.of("all"));
        String digest = get("/api/v1/models/tamper/versions/" + v + "/variants", reader()).json().get(0).path("digest").asString();
        String hex = digest.substring("sha256:".length());
        byte[] evil = mlpackage("evil twin");
        storage.put(Blob.keyFor(hex), new ByteArrayInputStream(evil), evil.length, "application/zip");

        Path cacheDir = tmp.resolve("cache");
        HostFacts h = host("tamper-agent", "A18_PRO", "coreml");
        AgentLoop loop = new AgentLoop(client(), h, realExecutor(cacheDir, h, echoRuntime()), LEASE_WAIT, BACKOFF);
        loop.start();
        try {
            JsonNode job = awaitJobs("tamper", v, j -> !j.path("kind").asString().equals("benchmark")
                    || j.path("state").asString().equals("failed"), Duration.ofSeconds(30)).get(0);
            assertThat(job.path("failureReason").asString())
                    .startsWith("artifact digest mismatch for http://127.0.0.1:" + port + "/api/v1/blobs/" + digest
                            + ": expected " + digest + " but the ")
                    .contains(" downloaded bytes hash to sha256:").contains("nothing was cached");
            JsonNode results = results("tamper", v);
            assertThat(results.get(0).path("outcome").asString()).isEqualTo("failed");
        } finally {
            loop.drain(Duration.ofSeconds(5));
        }
        try (Stream<Path> files = Files.walk(cacheDir)) {
            assertThat(files.filter(Files::isRegularFile).toList()).as("nothing cached").isEmpty();
        }
    }

    @Test
    void theRealExecutorMeasuresComparesAndReportsWithProvenance() throws Exception {
        int v = versionWithVariants("real-exec", "A14", 1, List.of("cpuAndNeuralEngine"));
        HostFacts h = host("real-exec-agent", "A14", "coreml");
        AgentLoop loop = new AgentLoop(client(), h, realExecutor(tmp.resolve("cache"), h, echoRuntime()), LEASE_WAIT, BACKOFF);
        loop.start();
        try {
            awaitJobs("real-exec", v, j -> !j.path("kind").asString().equals("benchmark")
                    || j.path("state").asString().equals("succeeded"), Duration.ofSeconds(30));
        } finally {
            loop.drain(Duration.ofSeconds(5));
        }
        JsonNode r = results("real-exec", v).get(0);
        assertThat(r.path("outcome").asString()).isEqualTo("succeeded");
        JsonNode p = r.path("provenance");
        assertThat(p.path("hostName").asString()).isEqualTo("real-exec-agent");
        assertThat(p.path("osBuild").asString()).isEqualTo("24B83");
        assertThat(p.path("runtime").asString()).isEqualTo("coreml");
        assertThat(p.path("runtimeVersion").asString()).isEqualTo("echo-1");
        assertThat(p.path("computeUnits").asString()).isEqualTo("cpuAndNeuralEngine");
        assertThat(r.path("protocol").path("timedIterations").asInt()).isEqualTo(100);
        assertThat(r.path("benchmark").path("latency").path("n").asInt()).isEqualTo(100);
        assertThat(r.path("benchmark").path("warmupIterationsRun").asInt()).isEqualTo(10);
        JsonNode f = r.path("fidelity").path("last_hidden_state");
        assertThat(f.path("cosineMin").asDouble()).isEqualTo(1.0);
        assertThat(f.path("maxAbsError").asDouble()).isEqualTo(0.0);
        assertThat(f.path("positions").asInt()).isEqualTo(1);
        assertThat(f.path("hiddenSize").asInt()).isEqualTo(4);
    }

    @Test
    void drainingHandsTheJobInHandBackToTheQueue() throws Exception {
        int v = versionWithVariants("drain", "M1", 1, List.of("cpuOnly"));
        CountDownLatch started = new CountDownLatch(1);
        AgentLoop loop = new AgentLoop(client(), host("drain-agent", "M1", "coreml"), lease -> {
            started.countDown();
            Thread.sleep(Long.MAX_VALUE);
            throw new IllegalStateException("unreachable");
        }, LEASE_WAIT, BACKOFF);
        loop.start();
        assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(jobs("drain", v).get(0).path("state").asString()).isEqualTo("leased");
        loop.drain(Duration.ofMillis(300)); // the job does not finish in time: it goes back
        assertThat(loop.isRunning()).isFalse();
        JsonNode job = jobs("drain", v).get(0);
        assertThat(job.path("state").asString()).isEqualTo("pending");
        assertThat(job.path("attempts").asInt()).isZero();
        assertThat(results("drain", v)).isEmpty();
    }

    /**
     * A prediction that does not return within {@code aneforge.agent.max-runtime-call} (1 s here): the agent gives the
     * job up from its heartbeat thread. The registry stores it failed, naming the job, the runtime call and the bound,
     * on its first attempt; the agent stops extending the lease, interrupts the call and takes the next job.
     */
    @Test
    void aRuntimeCallPastItsBoundFailsTheJobNamingTheCallAndTheBound() throws Exception {
        int v = versionWithVariants("stuck-call", "M2", 1, List.of("cpuOnly"));
        HostFacts h = host("stuck-call-agent", "M2", "coreml");
        ModelRuntime echo = echoRuntime();
        AtomicInteger interrupted = new AtomicInteger();
        ModelRuntime hangs = new ModelRuntime() {
            @Override public String id() { return echo.id(); }
            @Override public String version() { return echo.version(); }
            @Override public boolean isAvailable() { return true; }
            @Override public LoadedModel load(Path mlpackage, RuntimeOptions options) {
                LoadedModel loaded = echo.load(mlpackage, options);
                return new LoadedModel() {
                    @Override public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
                        try {
                            Thread.sleep(Long.MAX_VALUE); // a prediction that never returns by itself
                        } catch (InterruptedException e) {
                            interrupted.incrementAndGet();
                            Thread.currentThread().interrupt();
                        }
                        // A runtime that honours the interrupt ends the call: too late, the agent gave the job up.
                        throw new IllegalStateException("prediction interrupted");
                    }
                    @Override public void close() { loaded.close(); }
                };
            }
        };
        RuntimeJobExecutor executor = realExecutor(tmp.resolve("cache"), h, hangs, new RuntimeCallWatch(Duration.ofSeconds(1)));
        AgentLoop loop = new AgentLoop(client(), h, executor, LEASE_WAIT, BACKOFF);
        loop.start();
        JsonNode job;
        try {
            JsonNode jobs = awaitJobs("stuck-call", v, j -> !j.path("kind").asString().equals("benchmark")
                    || j.path("state").asString().equals("failed"), Duration.ofSeconds(30));
            job = null;
            for (JsonNode j : jobs) if (j.path("kind").asString().equals("benchmark")) job = j;
            assertThat(job).as(jobs.toString()).isNotNull();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (interrupted.get() == 0 && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(interrupted.get()).as("the stuck call was interrupted").isEqualTo(1);
            assertThat(loop.isRunning()).isTrue();
            assertThat(executor.overrunningCall()).isEmpty();
        } finally {
            loop.drain(Duration.ofSeconds(5));
        }
        assertThat(job.path("attempts").asInt()).isEqualTo(1);
        assertThat(job.path("failureReason").asString()).startsWith("agent stuck-call-agent: runtime coreml's predict call"
                        + " for benchmark job " + job.path("id").asLong() + " (model stuck-call version " + v)
                .contains("has not returned after", "longer than aneforge.agent.max-runtime-call (1 s,"
                        + " env ANEFORGE_AGENT_MAX_RUNTIME_CALL)");
        JsonNode results = results("stuck-call", v);
        assertThat(results).hasSize(1);
        assertThat(results.get(0).path("outcome").asString()).isEqualTo("failed");
    }

    private RuntimeJobExecutor realExecutor(Path cacheDir, HostFacts h, ModelRuntime runtime) {
        return realExecutor(cacheDir, h, runtime, new RuntimeCallWatch(Duration.ofMinutes(30)));
    }

    private RuntimeJobExecutor realExecutor(Path cacheDir, HostFacts h, ModelRuntime runtime,
            RuntimeCallWatch watch) {
        URI base = URI.create("http://127.0.0.1:" + port);
        HttpArtifactSource source = new HttpArtifactSource(base, agentToken(), Duration.ofSeconds(30));
        ArtifactCache cache = new ArtifactCache(cacheDir, 1L << 30, source, UnzipLimits.defaults(), Clock.systemUTC());
        return new RuntimeJobExecutor(cache, new GoldenStore(source, 1L << 26), List.of(runtime),
                new BenchmarkRunner(PeakMemory.forCurrentOs()), h, Clock.systemUTC(), watch);
    }

    /** A stand-in "coreml" runtime whose model returns the golden output of JobTestSupport.setGolden. */
    static ModelRuntime echoRuntime() {
        return new ModelRuntime() {
            @Override public String id() { return "coreml"; }
            @Override public String version() { return "echo-1"; }
            @Override public boolean isAvailable() { return true; }
            @Override public LoadedModel load(Path mlpackage, RuntimeOptions options) {
                assertThat(mlpackage.resolve("Manifest.json")).exists();
                return new LoadedModel() {
                    @Override public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
                        assertThat(inputs).containsKey("input_ids");
                        return Map.of("last_hidden_state", new FloatTensor(new int[] {1, 1, 4}, new float[] {0.5f, -0.25f, 1f, 2f}));
                    }
                    @Override public void close() {}
                };
            }
        };
    }
}

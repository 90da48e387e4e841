package io.aneforge.bench.queue;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.bench.BenchmarkResult;
import io.aneforge.agent.bench.LatencyStats;
import io.aneforge.agent.bench.Provenance;
import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.loop.AgentLoop;
import io.aneforge.agent.registry.AgentRegistration;
import io.aneforge.agent.registry.HeartbeatAck;
import io.aneforge.agent.registry.HttpRegistryClient;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.registry.RegistryClient;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.variant.VariantSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Queue throughput: N agents (the real {@link AgentLoop} and {@link HttpRegistryClient}, with a
 * no-op executor) lease and report jobs against a running registry for a fixed time; prints
 * jobs/s and the lease-call latency percentiles. Seeds its own model through the API first.
 *
 * <pre>QueueLoad &lt;registry-url&gt; &lt;admin-token&gt; [agents=50] [seconds=10] [variants=6000] [warmup-seconds=20]</pre>
 *
 * Run by bench/queue.sh, which starts a registry on a fresh database.
 */
public final class QueueLoad {

    /** The seeded packages' one output, also the golden outputs' and the reports' name. */
    static final String OUTPUT = "out";
    private static final int MIN_SEQ_LEN = VariantSpec.MIN_SEQ_LEN;
    private static final int MAX_SEQ_LEN = VariantSpec.MAX_SEQ_LEN;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private QueueLoad() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: QueueLoad <registry-url> <admin-token> [agents=50] [seconds=10] [variants=6000]"
                    + " [warmup-seconds=20]");
            System.exit(2);
        }
        URI base = URI.create(args[0]);
        String admin = args[1];
        int agents = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        int variants = args.length > 4 ? Integer.parseInt(args[4]) : 6000;
        int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 20;

        String publisher = mint(base, admin, "bench-publisher", "publisher");
        String agentToken = mint(base, admin, "bench-agent", "agent");
        long t0 = System.nanoTime();
        seed(base, publisher, variants);
        System.out.printf("queue: seeded %d variants = %d jobs in %.1f s%n", variants, variants * 5,
                (System.nanoTime() - t0) / 1e9);

        AtomicLong reported = new AtomicLong();
        ConcurrentLinkedQueue<long[]> latencies = new ConcurrentLinkedQueue<>();
        HttpRegistryClient http = new HttpRegistryClient(base, agentToken, Duration.ofSeconds(30));
        List<AgentLoop> loops = new ArrayList<>();
        List<Timed> timers = new ArrayList<>();
        for (int i = 0; i < agents; i++) {
            HostFacts host = new HostFacts(String.format("bench-agent-%03d", i), "macOS", "15.1", "24B83", "arm64",
                    "Apple M2", 16L << 30, "M2", List.of("coreml", "reference-cpu"));
            Timed timed = new Timed(http, reported);
            timers.add(timed);
            loops.add(new AgentLoop(timed, host, lease -> noOp(lease, host), Duration.ofSeconds(1), Duration.ofMillis(100)));
        }
        loops.forEach(AgentLoop::start);
        for (AgentLoop l : loops) {
            l.awaitRegistered(Duration.ofSeconds(60));
        }
        // Measure a steady window: everyone is registered and leasing, and the registry's JIT has
        // compiled the lease and report paths (the first seconds of a fresh JVM cost several times more).
        System.out.printf("queue: warming up for %d s%n", warmup);
        Thread.sleep(Math.max(1, warmup) * 1000L);
        long before = reported.get();
        timers.forEach(Timed::reset);
        CpuMeter cpu = CpuMeter.fromEnvironment();
        CpuMeter.Sample cpuBefore = cpu.sample();
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long done = reported.get() - before;
        double elapsed = (System.nanoTime() - start) / 1e9;
        CpuMeter.Sample cpuAfter = cpu.sample();
        long[] lat = timers.stream().flatMapToLong(Timed::snapshot).sorted().toArray();
        ExecutorService stopper = Executors.newFixedThreadPool(agents);
        List<Future<?>> stops = new ArrayList<>();
        for (AgentLoop l : loops) {
            stops.add(stopper.submit(l::halt));
        }
        for (Future<?> f : stops) {
            f.get();
        }
        stopper.shutdown();
        System.out.printf("queue: %d agents, %.1f s: %d jobs leased+reported = %.0f jobs/s; %d lease calls, lease latency"
                        + " p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                agents, elapsed, done, done / elapsed, lat.length, pct(lat, 50), pct(lat, 90), pct(lat, 99),
                lat.length == 0 ? 0 : lat[lat.length - 1] / 1e6);
        if (done > 0) {
            System.out.println(cpu.perJob(cpuBefore, cpuAfter, done));
        }
        if (reported.get() >= (long) variants * 5 - agents) {
            System.out.println("queue: WARNING: the queue ran dry; seed more variants for a longer run");
        }
        System.exit(0);
    }

    private static double pct(long[] sorted, int q) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.max(1, ((long) q * sorted.length + 99) / 100);
        return sorted[rank - 1] / 1e6;
    }

    /** Times every lease call and counts accepted reports. */
    static final class Timed implements RegistryClient {
        private final RegistryClient inner;
        private final AtomicLong reported;
        private final Object lock = new Object();
        private long[] samples = new long[1 << 14];
        private int n;

        Timed(RegistryClient inner, AtomicLong reported) {
            this.inner = inner;
            this.reported = reported;
        }

        void reset() {
            synchronized (lock) {
                n = 0;
            }
        }

        java.util.stream.LongStream snapshot() {
            synchronized (lock) {
                return Arrays.stream(Arrays.copyOf(samples, n));
            }
        }

        @Override
        public AgentRegistration register(HostFacts host) {
            return inner.register(host);
        }

        @Override
        public HeartbeatAck heartbeat(String agentId, List<String> held) {
            return inner.heartbeat(agentId, held);
        }

        @Override
        public Optional<JobLease> lease(String agentId, Duration wait) {
            long s = System.nanoTime();
            Optional<JobLease> l = inner.lease(agentId, wait);
            long d = System.nanoTime() - s;
            if (l.isPresent()) {
                synchronized (lock) {
                    if (n == samples.length) {
                        samples = Arrays.copyOf(samples, n * 2);
                    }
                    samples[n++] = d;
                }
            }
            return l;
        }

        @Override
        public void report(String agentId, JobReport report) {
            inner.report(agentId, report);
            reported.incrementAndGet();
        }

        @Override
        public io.aneforge.agent.registry.HandBack release(String agentId, String jobId, String leaseId, String reason,
                                                          boolean trouble) {
            return inner.release(agentId, jobId, leaseId, reason, trouble);
        }

        @Override
        public io.aneforge.agent.registry.HandBack releaseLeaseRequest(String agentId, String request, String reason,
                boolean trouble) {
            return inner.releaseLeaseRequest(agentId, request, reason, trouble);
        }

        @Override
        public void drain(String agentId, boolean draining) {
            inner.drain(agentId, draining);
        }
    }

    static JobReport noOp(JobLease lease, HostFacts host) {
        Provenance p = new Provenance(host, lease.runtimeId(), "noop", lease.options(), lease.artifact().digest(), Instant.now());
        BenchmarkResult bench = null;
        if (lease.kind() == JobLease.Kind.BENCHMARK) {
            BenchmarkProtocol protocol = lease.protocol();
            long[] nanos = new long[protocol.timedIterations()];
            Arrays.fill(nanos, 1_000_000);
            bench = new BenchmarkResult(p, protocol, 1, 1, protocol.warmupIterations(), LatencyStats.ofNanos(nanos), false,
                    -1, false);
        }
        return JobReport.succeeded(lease, p, bench,
                Map.of(OUTPUT, new FidelityReport(1, 4, 1, 1, 1, 0, 0, 200, null)));
    }

    /**
     * Seeds {@code variants} M2 variants (the agents' chip, so that all five jobs of each are theirs) over several
     * versions, with golden data set first so that every job is ready. The registry checks each package against the
     * declared facts (its first input must be {@code [1, seqLen]}), and a variant is unique by its facts within a
     * version: so variant {@code i} goes to version {@code 1 + i % versions} with sequence length
     * {@code 2 + i / versions}, and each sequence length gets its own real package, shared by the versions.
     */
    private static void seed(URI base, String publisher, int variants) throws Exception {
        // A fresh model per run, so that a run against a registry that already saw one works too. Several
        // versions, because registering a variant locks its version: one version would seed serially.
        String model = "queue-bench-" + Long.toString(System.currentTimeMillis(), 36);
        int versions = Math.max(1, Math.min(8, variants / 100));
        int seqLens = (variants + versions - 1) / versions;
        if (MIN_SEQ_LEN + seqLens - 1 > MAX_SEQ_LEN) {
            throw new IllegalArgumentException(variants + " variants need sequence lengths up to "
                    + (MIN_SEQ_LEN + seqLens - 1) + " over " + versions + " versions; at most "
                    + (MAX_SEQ_LEN - MIN_SEQ_LEN + 1) * versions + " variants");
        }
        call(base, "POST", "/api/v1/models", publisher, "{\"name\":\"" + model + "\",\"task\":\"feature-extraction\"}");
        String in = upload(base, publisher, golden("input_ids", new float[] {101, 102}));
        String out = upload(base, publisher, golden(OUTPUT, new float[] {101, 102}));
        for (int v = 1; v <= versions; v++) {
            call(base, "POST", "/api/v1/models/" + model + "/versions", publisher, "{\"source\":{\"type\":\"upload\"}}");
            call(base, "PUT", "/api/v1/models/" + model + "/versions/" + v + "/golden", publisher,
                    "{\"inputs\":\"" + in + "\",\"outputs\":\"" + out + "\"}");
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> packages = new ArrayList<>();
            for (int s = 0; s < seqLens; s++) {
                int seq = MIN_SEQ_LEN + s;
                packages.add(pool.submit(() -> upload(base, publisher, mlpackage(seq))));
            }
            List<String> digests = new ArrayList<>();
            for (Future<String> f : packages) {
                digests.add(f.get());
            }
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < variants; i++) {
                int version = 1 + i % versions;
                int seq = MIN_SEQ_LEN + i / versions;
                String pkg = digests.get(i / versions);
                fs.add(pool.submit(() -> call(base, "POST", "/api/v1/models/" + model + "/versions/" + version + "/variants",
                        publisher, "{\"chip\":\"M2\",\"deploymentTarget\":\"18.0\",\"layout\":\"ane\",\"precision\":\"fp16\","
                                + "\"seqLen\":" + seq + ",\"digest\":\"" + pkg + "\"}")));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    private static String mint(URI base, String admin, String name, String role) {
        String body = call(base, "POST", "/api/v1/tokens", admin, "{\"name\":\"" + name + "\",\"role\":\"" + role + "\"}");
        int i = body.indexOf("\"token\":\"") + 9;
        return body.substring(i, body.indexOf('"', i));
    }

    private static String upload(URI base, String token, byte[] bytes) throws Exception {
        String digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/blobs/" + digest))
                .header("Authorization", "Bearer " + token).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("upload answered " + r.statusCode() + ": " + r.body());
        }
        return digest;
    }

    private static String call(URI base, String method, String path, String token, String json) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + path))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
            }
            return r.body();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(method + " " + path + ": " + e, e);
        }
    }

    /**
     * A real, tiny zipped .mlpackage written by ane-core, as the registry's tests build theirs: {@code input_ids
     * [1, seqLen]} (INT32) cast to FP32 as the one output {@value #OUTPUT}, iOS 18 (the declared deployment target).
     * The registry reads its manifest and model and checks them against the variant's facts, as for a converted one.
     */
    static byte[] mlpackage(int seqLen) {
        try {
            MilBuilder b = new MilBuilder(Target.IOS18);
            Var ids = b.input("input_ids", DType.INT32, 1, seqLen);
            Path tmp = Files.createTempDirectory("queue-bench-pkg");
            try {
                ByteArrayOutputStream zipped = new ByteArrayOutputStream();
                MlPackage.write(b.build(b.named(OUTPUT).cast(ids, DType.FP32)), tmp.resolve("Bench.mlpackage"), zipped);
                return zipped.toByteArray();
            } finally {
                try (var files = Files.walk(tmp)) {
                    for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(f);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One golden sample of {@code values} as {@code [1, n]}: the inputs {@code input_ids} and the outputs
     * {@value #OUTPUT} are the packages' names, and {@code [101, 102]} is what the sequence-length-2 package computes
     * for those ids. The no-op agents never download them; the registry only needs them stored to make jobs ready.
     */
    private static byte[] golden(String name, float[] values) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(new GoldenOutputs(List.of(GoldenOutputs.Sample.of("0",
                Map.of(name, new FloatTensor(new int[] {1, values.length}, values))))), out);
        return out.toByteArray();
    }
}

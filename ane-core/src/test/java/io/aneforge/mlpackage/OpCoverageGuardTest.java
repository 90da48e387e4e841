package io.aneforge.mlpackage;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.OpDef;
import io.aneforge.mil.Ops;
import io.aneforge.mil.Program;
import io.aneforge.mil.ProgramValidator;
import io.aneforge.mil.ReferenceEvaluator;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Project rule (STYLE.md 13): every registered op has a type rule, a reference
 * evaluation and a writer mapping. Each op gets a sample program here; the sample is
 * type-checked by the builder, evaluated, written, read back, re-validated and must
 * come back equal. Registering an op without a sample fails {@link #everyRegisteredOpHasASample}.
 */
class OpCoverageGuardTest {

    private static final Map<String, Function<MilBuilder, List<Var>>> SAMPLES = new LinkedHashMap<>();

    private static void sample(String op, Function<MilBuilder, Var> f) {
        SAMPLES.put(op, b -> List.of(f.apply(b)));
    }

    private static Var x(MilBuilder b, int... shape) {
        return b.input("x", DType.FP32, shape);
    }

    private static float[] ramp(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (i % 7 - 3) * 0.25f;
        }
        return a;
    }

    static {
        sample("const", b -> b.add(x(b, 2, 3), b.constant(Constant.fp32(ramp(6), 2, 3))));
        // pow of a negative base to a fractional power is NaN, so its base is exp(x)
        sample("pow", b -> b.pow(b.op("exp").arg("x", x(b, 2, 3)).build(), b.input("y", DType.FP32, 3)));
        for (String op : List.of("add", "sub", "mul", "real_div", "maximum", "minimum")) {
            sample(op, b -> b.op(op).arg("x", x(b, 2, 3)).arg("y", b.input("y", DType.FP32, 3)).build());
        }
        for (String op : List.of("greater", "less", "equal")) {
            sample(op, b -> b.cast(b.op(op).arg("x", x(b, 2, 3)).arg("y", 0.5f).build(), DType.FP32));
        }
        sample("select", b -> {
            Var x = x(b, 2, 3);
            return b.select(b.op("greater").arg("x", x).arg("y", 0f).build(), x, b.constant(Constant.fp32(new float[]{-1f})));
        });
        for (String op : List.of("tanh", "erf", "exp", "relu", "sigmoid")) {
            sample(op, b -> b.op(op).arg("x", x(b, 2, 3)).build());
        }
        sample("sqrt", b -> b.sqrt(b.op("relu").arg("x", x(b, 2, 3)).build()));
        sample("rsqrt", b -> b.rsqrt(b.op("exp").arg("x", x(b, 2, 3)).build()));
        sample("gelu", b -> b.gelu(x(b, 2, 3), "TANH_APPROXIMATION"));
        sample("cast", b -> b.cast(b.cast(x(b, 2, 3), DType.FP16), DType.FP32));
        sample("softmax", b -> b.softmax(x(b, 2, 3), 0));
        sample("matmul", b -> b.matmul(x(b, 2, 3), b.input("y", DType.FP32, 2, 4), true, false));
        sample("linear", b -> b.linear(x(b, 2, 3), Constant.fp32(ramp(12), 4, 3), Constant.fp32(ramp(4), 4)));
        sample("conv", b -> b.op("conv").arg("x", x(b, 1, 2, 5, 5)).arg("weight", b.constant(Constant.fp32(ramp(36), 4, 1, 3, 3)))
                .arg("groups", 2).arg("pad_type", "same").arg("strides", new int[]{2, 1}).build());
        sample("einsum", b -> b.einsum("bkhc,bchq->bkhq", x(b, 1, 5, 1, 3), b.input("q", DType.FP32, 1, 3, 1, 4)));
        sample("layer_norm", b -> b.layerNorm(x(b, 2, 12), new int[]{-1}, Constant.fp32(ramp(12), 12), Constant.fp32(ramp(12), 12), 1e-5f));
        sample("reduce_mean", b -> b.reduceMean(x(b, 2, 3), new int[]{1}, true));
        sample("reshape", b -> b.reshape(x(b, 2, 3), 3, -1));
        sample("transpose", b -> b.transpose(x(b, 2, 3), 1, 0));
        SAMPLES.put("split", b -> b.splitSizes(x(b, 2, 5), 1, 2, 3));
        sample("concat", b -> b.concat(0, List.of(x(b, 2, 3), b.input("y", DType.FP32, 1, 3))));
        sample("gather", b -> b.gather(b.constant(Constant.fp32(ramp(20), 5, 4)), b.input("ids", DType.INT32, 1, 3), 0));
        sample("expand_dims", b -> b.expandDims(x(b, 2, 3), 1));
        sample("squeeze", b -> b.squeeze(x(b, 2, 1, 3), 1));
        sample("slice_by_index", b -> b.op("slice_by_index").arg("x", x(b, 2, 6)).arg("begin", new int[]{0, 1}).arg("end", new int[]{1, 6})
                .arg("stride", new int[]{1, 2}).arg("squeeze_mask", new boolean[]{true, false}).build());
        sample("band_part", b -> b.bandPart(x(b, 4, 4), -1, 0));
        sample("constexpr_affine_dequantize", b -> b.linear(x(b, 2, 3),
                b.affineDequantize(Constant.integers(DType.UINT8, new int[]{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110}, 4, 3),
                        Constant.integers(DType.UINT8, new int[]{50, 60, 70, 80}, 4), Constant.fp32(new float[]{0.1f, 0.2f, 0.3f, 0.4f}, 4), 0),
                null));
        sample("constexpr_blockwise_shift_scale", b -> b.linear(x(b, 2, 4),
                b.blockwiseShiftScale(Constant.integers(DType.INT4, new int[]{-8, -1, 0, 7, 1, 2, 3, 4, 5, 6, -5, -6}, 3, 4),
                        Constant.fp32(new float[]{0.5f, 0.25f, 1f, 2f, 0.1f, 0.3f}, 3, 2), Constant.integers(DType.INT4, new int[]{0, 1, -1, 0, 2, 0}, 3, 2)),
                null));
    }

    static {
        // per tensor with a zero point (int8), then per channel along axis 1 (uint8), each through its pair
        sample("quantize", b -> b.dequantize(b.quantize(x(b, 2, 3), Constant.fp32(new float[]{0.25f}),
                Constant.integers(DType.INT8, new int[]{3}), null, DType.INT8), Constant.fp32(new float[]{0.25f}),
                Constant.integers(DType.INT8, new int[]{3}), null));
        sample("dequantize", b -> b.dequantize(b.quantize(x(b, 2, 3), Constant.fp32(new float[]{0.1f, 0.2f, 0.3f}, 3),
                Constant.integers(DType.UINT8, new int[]{128, 120, 0}, 3), 1, DType.UINT8),
                Constant.fp32(new float[]{0.1f, 0.2f, 0.3f}, 3), Constant.integers(DType.UINT8, new int[]{128, 120, 0}, 3), -1));
    }

    @Test
    void everyRegisteredOpHasASample() {
        assertThat(SAMPLES.keySet()).containsExactlyInAnyOrderElementsOf(Ops.all().keySet());
        for (OpDef d : Ops.all().values()) {
            assertThat(d.typeRule()).as(d.type()).isNotNull();
            assertThat(d.evaluator()).as(d.type()).isNotNull();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyOpTypeChecksEvaluatesAndRoundTrips(@TempDir Path tmp) {
        return SAMPLES.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            MilBuilder b = new MilBuilder(Target.IOS18);
            List<Var> outs = e.getValue().apply(b);
            Program p = b.build(outs.toArray(Var[]::new));
            assertThat(p.operations()).anyMatch(op -> op.type().equals(e.getKey()));
            ProgramValidator.validate(p);

            Map<String, FloatTensor> inputs = new HashMap<>();
            Random r = new Random(7);
            for (Var in : p.inputs()) {
                float[] d = new float[(int) in.type().elementCount()];
                for (int i = 0; i < d.length; i++) {
                    d[i] = in.dtype() == DType.INT32 ? r.nextInt(in.name().equals("ids") ? 5 : 3) : (float) r.nextGaussian();
                }
                inputs.put(in.name(), new FloatTensor(in.shape(), d));
            }
            Map<String, FloatTensor> result = ReferenceEvaluator.run(p, inputs);
            for (Var o : outs) {
                assertThat(result.get(o.name()).shape()).containsExactly(o.shape());
                for (float v : result.get(o.name()).data()) {
                    assertThat(Float.isFinite(v)).as(e.getKey() + " output finite").isTrue();
                }
            }

            Path dir = tmp.resolve(e.getKey() + ".mlpackage");
            MlPackage.write(p, dir);
            Program back = MlPackage.read(dir);
            assertThat(back).isEqualTo(p);
            assertThat(ReferenceEvaluator.run(back, inputs)).isEqualTo(result);
        }));
    }

    static List<String> opTypes() {
        return new ArrayList<>(SAMPLES.keySet());
    }
}

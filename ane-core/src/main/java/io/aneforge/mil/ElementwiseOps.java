package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;

/** Element-wise MIL ops: binary arithmetic with broadcasting, comparisons, select, activations, cast. */
final class ElementwiseOps {
    private ElementwiseOps() {
    }

    interface Binary {
        float apply(float x, float y);
    }

    static List<OpDef> all() {
        return List.of(
                binary("add", (x, y) -> x + y, false),
                binary("sub", (x, y) -> x - y, false),
                binary("mul", (x, y) -> x * y, false),
                binary("real_div", (x, y) -> x / y, false),
                binary("pow", (x, y) -> (float) Math.pow(x, y), false),
                binary("maximum", Math::max, false),
                binary("minimum", Math::min, false),
                binary("greater", (x, y) -> x > y ? 1f : 0f, true),
                binary("less", (x, y) -> x < y ? 1f : 0f, true),
                binary("equal", (x, y) -> x == y ? 1f : 0f, true),
                select(),
                unary("tanh", Math::tanh),
                unary("erf", ElementwiseOps::erf),
                unary("sqrt", Math::sqrt),
                unary("exp", Math::exp),
                unary("relu", v -> Math.max(0, v)),
                unary("sigmoid", v -> 1 / (1 + Math.exp(-v))),
                rsqrt(),
                gelu(),
                cast(),
                softmax());
    }

    static OpDef binary(String type, Binary f, boolean comparison) {
        Set<DType> types = EnumSet.of(DType.FP16, DType.FP32, DType.INT32);
        return OpDef.of(type, Target.IOS15,
                List.of(Param.tensor("x", types), Param.tensor("y", types).sameAs("x")),
                c -> {
                    int[] s = Shapes.broadcast(c.shape("x"), c.shape("y"));
                    if (s == null) {
                        throw c.fail("y", "shape " + OpContext.str(c.shape("y")) + " does not broadcast with x "
                                + OpContext.str(c.shape("x")) + " (NumPy rules: trailing dims equal or 1)");
                    }
                    return List.of(new TensorType(comparison ? DType.BOOL : c.type("x").dtype(), s));
                },
                c -> {
                    FloatTensor x = c.tensor("x");
                    FloatTensor y = c.tensor("y");
                    int[] s = c.outputType(0).shape();
                    int[] ix = Shapes.broadcastIndex(x.shape(), s);
                    int[] iy = Shapes.broadcastIndex(y.shape(), s);
                    float[] out = new float[ix.length];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = f.apply(x.data()[ix[i]], y.data()[iy[i]]);
                    }
                    return List.of(new FloatTensor(s, out));
                });
    }

    static OpDef select() {
        return OpDef.of("select", Target.IOS15,
                List.of(Param.tensor("cond", Param.BOOL), Param.tensor("a", Param.NUMERIC), Param.tensor("b", Param.NUMERIC).sameAs("a")),
                c -> {
                    int[] s = Shapes.broadcast(c.shape("a"), c.shape("b"));
                    s = s == null ? null : Shapes.broadcast(c.shape("cond"), s);
                    if (s == null) {
                        throw c.fail("cond", "shapes cond " + OpContext.str(c.shape("cond")) + ", a " + OpContext.str(c.shape("a"))
                                + ", b " + OpContext.str(c.shape("b")) + " do not broadcast together");
                    }
                    return List.of(new TensorType(c.type("a").dtype(), s));
                },
                c -> {
                    FloatTensor cond = c.tensor("cond");
                    FloatTensor a = c.tensor("a");
                    FloatTensor b = c.tensor("b");
                    int[] s = c.outputType(0).shape();
                    int[] ic = Shapes.broadcastIndex(cond.shape(), s);
                    int[] ia = Shapes.broadcastIndex(a.shape(), s);
                    int[] ib = Shapes.broadcastIndex(b.shape(), s);
                    float[] out = new float[ic.length];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = cond.data()[ic[i]] != 0 ? a.data()[ia[i]] : b.data()[ib[i]];
                    }
                    return List.of(new FloatTensor(s, out));
                });
    }

    static OpDef unary(String type, DoubleUnaryOperator f) {
        return OpDef.of(type, Target.IOS15, List.of(Param.tensor("x", Param.FLOATS)),
                c -> List.of(c.type("x")),
                c -> List.of(map(c.tensor("x"), f)));
    }

    static FloatTensor map(FloatTensor x, DoubleUnaryOperator f) {
        float[] out = new float[x.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) f.applyAsDouble(x.data()[i]);
        }
        return new FloatTensor(x.shape(), out);
    }

    static OpDef rsqrt() {
        return OpDef.of("rsqrt", Target.IOS15,
                List.of(Param.tensor("x", Param.FLOATS),
                        Param.constant("epsilon", Param.FLOATS).sameAs("x").rank(0)
                                .optional(c -> Constant.floatScalar(c.type("x").dtype(), 1e-12f))),
                c -> List.of(c.type("x")),
                c -> {
                    double eps = c.floatValue("epsilon");
                    return List.of(map(c.tensor("x"), v -> 1 / Math.sqrt(v + eps)));
                });
    }

    static final List<String> GELU_MODES = List.of("EXACT", "TANH_APPROXIMATION", "SIGMOID_APPROXIMATION");

    static OpDef gelu() {
        return OpDef.of("gelu", Target.IOS15,
                List.of(Param.tensor("x", Param.FLOATS),
                        Param.constant("mode", Param.STRING).rank(0).optional(Constant.string("EXACT"))),
                c -> {
                    if (!GELU_MODES.contains(c.string("mode"))) {
                        throw c.fail("mode", "'" + c.string("mode") + "' is not a gelu mode (expected one of " + GELU_MODES + ")");
                    }
                    return List.of(c.type("x"));
                },
                c -> {
                    String mode = c.string("mode");
                    DoubleUnaryOperator f = switch (mode) {
                        // 0.5 x (1 + erf(x / sqrt 2))
                        case "EXACT" -> v -> 0.5 * v * (1 + erf(v / Math.sqrt(2)));
                        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
                        case "TANH_APPROXIMATION" -> v -> 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                        // x sigmoid(1.702 x)
                        default -> v -> v / (1 + Math.exp(-1.702 * v));
                    };
                    return List.of(map(c.tensor("x"), f));
                });
    }

    /**
     * erf via the complementary error function's Chebyshev fit (Numerical Recipes,
     * fractional error below 1.2e-7), evaluated in double: exact enough for FP32 reference.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        double erfc = x >= 0 ? ans : 2 - ans;
        return 1 - erfc;
    }

    static final Set<DType> CAST_TARGETS = EnumSet.of(DType.FP16, DType.FP32, DType.INT32, DType.BOOL);

    static OpDef cast() {
        return OpDef.of("cast", Target.IOS15,
                List.of(Param.tensor("x", EnumSet.of(DType.FP16, DType.FP32, DType.INT32, DType.BOOL)),
                        Param.constant("dtype", Param.STRING).rank(0)),
                c -> {
                    String name = c.string("dtype");
                    DType to = CAST_TARGETS.stream().filter(d -> d.milName().equals(name)).findFirst().orElseThrow(
                            () -> c.fail("dtype", "'" + name + "' is not a cast target (expected fp16, fp32, int32 or bool)"));
                    return List.of(c.type("x").withDType(to));
                },
                c -> {
                    DType to = c.outputType(0).dtype();
                    DoubleUnaryOperator f = switch (to) {
                        case FP16 -> v -> Half.round((float) v);
                        case INT32 -> v -> (double) (long) v; // truncation toward zero, like NumPy astype
                        case BOOL -> v -> v != 0 ? 1 : 0;
                        default -> v -> v;
                    };
                    return List.of(map(c.tensor("x"), f));
                });
    }

    static OpDef softmax() {
        return OpDef.of("softmax", Target.IOS15,
                List.of(Param.tensor("x", Param.FLOATS).ranks(1, 5),
                        Param.constant("axis", Param.INT32).rank(0).optional(Constant.int32Scalar(-1))),
                c -> {
                    c.axis("axis", c.intValue("axis"), c.rank("x"));
                    return List.of(c.type("x"));
                },
                c -> {
                    FloatTensor x = c.tensor("x");
                    int axis = c.axis("axis", c.intValue("axis"), x.rank());
                    int[] s = x.shape();
                    int n = s[axis];
                    int inner = Shapes.strides(s)[axis];
                    int outer = x.size() / (n * inner);
                    float[] out = new float[x.size()];
                    for (int o = 0; o < outer; o++) {
                        for (int in = 0; in < inner; in++) {
                            int base = o * n * inner + in;
                            double max = Double.NEGATIVE_INFINITY;
                            for (int k = 0; k < n; k++) {
                                max = Math.max(max, x.data()[base + k * inner]);
                            }
                            double sum = 0;
                            for (int k = 0; k < n; k++) {
                                sum += Math.exp(x.data()[base + k * inner] - max);
                            }
                            for (int k = 0; k < n; k++) {
                                out[base + k * inner] = (float) (Math.exp(x.data()[base + k * inner] - max) / sum);
                            }
                        }
                    }
                    return List.of(new FloatTensor(s, out));
                });
    }
}

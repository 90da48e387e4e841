package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Activation quantization at run time (iOS 17, coremltools' {@code iOS17/quantization_ops.py}):
 * {@code quantize} ({@code q = clip(round(input / scale) + zero_point)}, float to int8/uint8) and
 * {@code dequantize} ({@code out = scale * (input - zero_point)}, int8/uint8 to float). Unlike the
 * {@code constexpr_*} weight ops their input is a live tensor; their parameters are inputs bound to
 * constants. {@code scale} and {@code zero_point} are both scalars (per tensor, no {@code axis}) or
 * both vectors along {@code axis} (per channel).
 */
final class QuantizeOps {
    private static final Set<DType> QUANTIZED = EnumSet.of(DType.INT8, DType.UINT8);

    private QuantizeOps() {
    }

    static List<OpDef> all() {
        return List.of(quantize(), dequantize());
    }

    static OpDef quantize() {
        return OpDef.of("quantize", Target.IOS17,
                List.of(Param.tensor("input", Param.FLOATS).ranks(1, 5),
                        Param.constant("zero_point", QUANTIZED).ranks(0, 1).optionalUnbound(),
                        Param.constant("scale", Param.FLOATS).sameAs("input").ranks(0, 1),
                        Param.constant("axis", Param.INT32).rank(0).optionalUnbound(),
                        Param.constant("output_dtype", Param.STRING).rank(0)),
                c -> {
                    String name = c.string("output_dtype");
                    DType out = QUANTIZED.stream().filter(d -> d.milName().equals(name)).findFirst().orElseThrow(
                            () -> c.fail("output_dtype", "'" + name + "' is not a quantized type (expected int8 or uint8)"));
                    if (c.has("zero_point") && c.type("zero_point").dtype() != out) {
                        throw c.fail("zero_point", "dtype " + c.type("zero_point").dtype().milName()
                                + " must equal output_dtype " + name);
                    }
                    boolean allZero = true;
                    Constant scale = c.constant("scale");
                    for (int i = 0; i < scale.elementCount() && allZero; i++) {
                        allZero = scale.floatAt(i) == 0;
                    }
                    if (allZero) {
                        throw c.fail("scale", "is 0, which divides by zero; use a positive scale (1 leaves values as they are)");
                    }
                    checkScaleShapes(c);
                    return List.of(c.type("input").withDType(out));
                },
                c -> {
                    FloatTensor x = c.tensor("input");
                    DType out = c.outputType(0).dtype();
                    // coremltools computes input / scale in the input's type (NumPy fp16 rounds the quotient to
                    // fp16), rounds half to even (np.around), adds the zero point, then clips to the type's range
                    boolean fp16 = c.type("input").dtype() == DType.FP16;
                    float lo = out == DType.INT8 ? -128 : 0;
                    float hi = out == DType.INT8 ? 127 : 255;
                    Channels ch = new Channels(c, x.shape());
                    float[] in = x.data();
                    float[] q = new float[in.length];
                    for (int i = 0; i < in.length; i++) {
                        float quotient = in[i] / ch.scale(i);
                        if (fp16) {
                            quotient = Half.round(quotient);
                        }
                        float v = (float) Math.rint(quotient) + ch.zeroPoint(i);
                        q[i] = Math.max(lo, Math.min(hi, v));
                    }
                    return List.of(new FloatTensor(x.shape(), q));
                });
    }

    static OpDef dequantize() {
        return OpDef.of("dequantize", Target.IOS17,
                List.of(Param.tensor("input", QUANTIZED).ranks(1, 5),
                        Param.constant("zero_point", QUANTIZED).sameAs("input").ranks(0, 1).optionalUnbound(),
                        Param.constant("scale", Param.FLOATS).ranks(0, 1),
                        Param.constant("axis", Param.INT32).rank(0).optionalUnbound()),
                c -> {
                    checkScaleShapes(c);
                    return List.of(c.type("input").withDType(c.type("scale").dtype()));
                },
                c -> {
                    FloatTensor x = c.tensor("input");
                    Channels ch = new Channels(c, x.shape());
                    float[] in = x.data();
                    float[] out = new float[in.length];
                    for (int i = 0; i < in.length; i++) {
                        out[i] = ch.scale(i) * (in[i] - ch.zeroPoint(i));
                    }
                    return List.of(new FloatTensor(x.shape(), out));
                });
    }

    /**
     * coremltools' {@code _check_scale_zp_shapes}: scalar scale (and zero point) without an axis, or vectors of
     * {@code input.shape[axis]} values with one.
     */
    private static void checkScaleShapes(OpContext c) {
        int[] in = c.shape("input");
        boolean zp = c.has("zero_point");
        if (c.rank("scale") == 0) {
            if (c.has("axis")) {
                throw c.fail("axis", "must be left out when scale is a scalar (per-tensor quantization)");
            }
            if (zp && c.rank("zero_point") != 0) {
                throw c.fail("zero_point", "must be a scalar when scale is one");
            }
            return;
        }
        if (!c.has("axis")) {
            throw c.fail("axis", "is required when scale is a vector (per-channel quantization): name the channel axis");
        }
        int axis = c.intValue("axis");
        if (axis < -in.length || axis >= in.length) {
            throw c.fail("axis", axis + " is outside -rank <= axis < rank for input " + OpContext.str(in));
        }
        int size = in[axis < 0 ? axis + in.length : axis];
        for (String p : zp ? List.of("scale", "zero_point") : List.of("scale")) {
            if (c.rank(p) != 1) {
                throw c.fail(p, "must be a vector when scale is one");
            }
            long n = c.type(p).elementCount();
            if (n != size) {
                throw c.fail(p, "has " + n + " values but axis " + axis + " of input " + OpContext.str(in) + " has size "
                        + size + " - use one value per channel");
            }
        }
    }

    /** The scale and zero point of each element: one of each per tensor, or per index along {@code axis}. */
    private static final class Channels {
        private final float[] scales;
        private final float[] zeroPoints;
        private final int inner;
        private final int size;

        Channels(OpContext c, int[] shape) {
            scales = c.constant("scale").toFloats();
            zeroPoints = c.has("zero_point") ? c.constant("zero_point").toFloats() : null;
            if (c.rank("scale") == 0) {
                inner = 1;
                size = 1;
            } else {
                int axis = c.axis("axis", c.intValue("axis"), shape.length);
                inner = Shapes.strides(shape)[axis];
                size = shape[axis];
            }
        }

        float scale(int i) {
            return scales[size == 1 ? 0 : (i / inner) % size];
        }

        float zeroPoint(int i) {
            return zeroPoints == null ? 0 : zeroPoints[size == 1 ? 0 : (i / inner) % size];
        }
    }
}

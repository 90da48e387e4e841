package io.aneforge.graph;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.Half;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Names;
import io.aneforge.mil.TensorType;
import io.aneforge.mil.Var;
import io.aneforge.model.ImportedModel;
import io.aneforge.quant.ActivationRange;
import io.aneforge.quant.EncodedWeight;
import io.aneforge.quant.Fp16Weight;
import io.aneforge.quant.QuantMode;
import io.aneforge.quant.QuantReport;
import io.aneforge.quant.QuantSpec;
import io.aneforge.quant.QuantType;
import io.aneforge.quant.QuantizedWeight;
import io.aneforge.quant.WeightQuantizer;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.variant.Precision;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns weights into program values as the precision asks: FP32 consts, FP16 consts, or
 * {@code constexpr_affine_dequantize} (int8 per channel, iOS 16) /
 * {@code constexpr_blockwise_shift_scale} (int8/int4 per block, iOS 18) ops. Which tensors
 * are quantized is the quant package's decision ({@link WeightQuantizer#skipReason}): tensors
 * of at most 2048 elements and rank-1 tensors (biases, LayerNorm) stay FP16, embedding tables
 * are quantized like projections (per row / per block along the hidden axis), as coremltools does.
 *
 * <p>A precision with {@link Precision#ffn8()} stores the weights the graph builder marks as FFN
 * input projections ({@link #markFfnInput}) with {@link Precision#ffnInput()} (int8 block-wise, same
 * block size, mode and fit) and every other quantized weight int4: int8 and int4
 * {@code constexpr_blockwise_shift_scale} ops side by side in one iOS 18 program.
 *
 * <p>{@code w8a8} stores weights int8 per channel, symmetric, and quantizes the activations the projections read
 * ({@link #activation}), with scales from what calibration saw at each input.
 */
public final class WeightStore {
    private final MilBuilder b;
    private final Precision precision;
    private final QuantSpec spec;
    /** The spec of the weights marked as FFN inputs: {@link #spec} unless the precision overrides them. */
    private final QuantSpec ffnSpec;
    private final Set<String> ffnInputs = new HashSet<>();
    private final DType computeType;
    private final WeightCache cache;
    private final List<QuantReport> reports = new ArrayList<>();
    private final Set<String> counted = new HashSet<>();
    private long parameterCount;

    public WeightStore(MilBuilder b, Precision precision) {
        this(b, precision, WeightCache.none());
    }

    /** With {@code cache}, encodings are shared with the other variants of the same conversion. */
    public WeightStore(MilBuilder b, Precision precision, WeightCache cache) {
        this.b = b;
        this.cache = cache;
        this.precision = precision;
        this.spec = specFor(precision);
        this.ffnSpec = precision.ffn8() ? specFor(precision.ffnInput()) : spec;
        this.computeType = precision.scheme() == Precision.Scheme.FP32 ? DType.FP32 : DType.FP16;
    }

    /** The quantization spec a precision maps to; null for FP32 (weights stored as they are). */
    static QuantSpec specFor(Precision p) {
        QuantSpec spec = rangeSpecFor(p);
        return p.mse() ? spec.withScaleFit(QuantSpec.ScaleFit.MSE) : p.gptq() ? spec.withScaleFit(QuantSpec.ScaleFit.GPTQ) : spec;
    }

    private static QuantSpec rangeSpecFor(Precision p) {
        return switch (p.scheme()) {
            case FP32 -> null;
            case FP16 -> QuantSpec.fp16();
            case INT8_CHANNEL -> QuantSpec.perChannel(QuantType.INT8, QuantMode.AFFINE);
            case INT8_BLOCK -> QuantSpec.perBlock(QuantType.INT8, p.affine() ? QuantMode.AFFINE : QuantMode.SYMMETRIC,
                    p.blockSize());
            case INT4_BLOCK -> QuantSpec.perBlock(QuantType.INT4, p.affine() ? QuantMode.AFFINE : QuantMode.SYMMETRIC,
                    p.blockSize());
            // coremltools' linear_quantize_weights default (linear_symmetric, per channel): per-channel
            // constexpr_affine_dequantize exists from iOS 16, so the variant stays at W8A8's iOS 17
            // (block-wise would need iOS 18)
            case W8A8 -> QuantSpec.perChannel(QuantType.INT8, QuantMode.SYMMETRIC);
        };
    }

    /** Element type of activations: FP32 for the fp32 precision, FP16 otherwise (what the ANE computes in). */
    public DType computeType() {
        return computeType;
    }

    public Precision precision() {
        return precision;
    }

    public List<QuantReport> reports() {
        return List.copyOf(reports);
    }

    public long parameterCount() {
        return parameterCount;
    }

    /** Reads a weight of the model and counts its elements once (tied or re-used tensors count once). */
    public FloatTensor source(ImportedModel model, String name) {
        FloatTensor t = model.weight(name);
        if (counted.add(name)) {
            parameterCount += t.size();
        }
        return t;
    }

    /**
     * Marks {@code weightName} (as later passed to {@link #weight}) as the weight of an FFN input
     * projection (BERT {@code intermediate.dense}, DistilBERT {@code ffn.lin1}, GPT-2 {@code mlp.c_fc}),
     * which an {@code -ffn8} precision stores at int8. The graph builders know the roles; names alone
     * do not (every family spells them differently).
     */
    public void markFfnInput(String weightName) {
        ffnInputs.add(weightName);
    }

    /**
     * A weight reshaped to {@code shape} (same element order), quantized when the
     * precision and the quant package allow. {@code source} names the Hub tensor(s) it came from.
     */
    public Var weight(String name, FloatTensor t, int... shape) {
        FloatTensor shaped = new FloatTensor(shape.length == 0 ? t.shape() : shape, t.data());
        String opName = Names.sanitize(name);
        if (spec == null) { // the imported floats themselves (see Constant.fp32View)
            return b.constant(opName, Constant.fp32View(shaped.data(), shaped.shape()));
        }
        if (spec.kind() == QuantSpec.Kind.FP16) {
            return fp16(opName, name, shaped);
        }
        QuantSpec s = ffnInputs.contains(name) ? ffnSpec : spec;
        WeightCache.Encoded e = cache.encoded(name, shaped, s);
        reports.add(e.report());
        return place(opName, e.weight());
    }

    /**
     * The activation {@code x} as the {@code linear} or {@code conv} multiplying it by {@code weightName} (a Hub tensor
     * or weight var name) reads it. Under {@code w8a8}, a {@code quantize} -> {@code dequantize} pair (iOS 17) as
     * coremltools' {@code linear_quantize_activations} inserts before a linear or conv: int8, one scale for the whole
     * tensor, symmetric (no zero point), the scale from the range calibration saw there; under {@code w8a8-affine} the
     * same pair with an int8 zero point too (coremltools' activation mode {@code linear}). Every other precision, and an
     * input no calibration reached (GPT-2's tied LM head is a {@code matmul} in the calibrated graph, which
     * coremltools does not quantize), reads {@code x} itself.
     */
    public Var activation(Var x, String weightName) {
        if (precision.scheme() != Precision.Scheme.W8A8) {
            return x;
        }
        ActivationRange range = cache.activationRange(precision.id(), weightName);
        if (range == null) {
            return x;
        }
        ActivationParams params = precision.affine() ? affineActivation(range)
                : new ActivationParams(activationScale(range), null);
        float scale0 = params.scale();
        if (!Float.isFinite(scale0)) {
            // coremltools computes this scale in fp16 too: it would be inf, and every value would quantize to 0
            throw new GraphException("the input of '" + weightName + "' reaches [" + range.min() + ", " + range.max()
                    + "] on the calibration texts, beyond FP16's ±65504: " + precision.id()
                    + "'s fp16 activation scale cannot hold it; use a weight-only precision (int8-channel, int8-block32) for this model");
        }
        Constant scale = Constant.fp16(new float[] {scale0});
        Constant zeroPoint = params.zeroPoint() == null ? null : Constant.integers(DType.INT8, new int[] {params.zeroPoint()});
        String opName = Names.sanitize(weightName);
        Var q = b.named(opName + "_input_quantized").quantize(x, scale, zeroPoint, null, DType.INT8);
        return b.named(opName + "_input").dequantize(q, scale, zeroPoint, null);
    }

    /** One activation pair's parameters: the fp16 scale (as a float) and the int8 zero point, null when symmetric. */
    record ActivationParams(float scale, Integer zeroPoint) {}

    /**
     * coremltools' affine int8 activation parameters ({@code quantize_weight_by_dtype} in mode {@code LINEAR} on the
     * range, every step in fp16 as NumPy computes it on fp16 statistics): the range widened to include 0, {@code scale =
     * (hi - lo) / (127 - -128)}, {@code zero_point = clip(round((-128·hi - 127·lo) / (hi - lo)), -128, 127)} with
     * ties to even. A range of only 0 (coremltools would divide 0 by 0 there) gets scale 1 and zero point 0, which
     * leaves the zeros as they are; a range past ±511.75, where NumPy's fp16 {@code -128·hi} overflows, gets its zero
     * point from the same formula in float (coremltools would clip an infinite one to -128). A scale beyond fp16 is returned as it is (inf), for the caller's error.
     */
    static ActivationParams affineActivation(ActivationRange range) {
        float lo = Math.min(0f, Half.round(range.min()));
        float hi = Math.max(0f, Half.round(range.max()));
        float width = Half.round(hi - lo);
        if (width == 0) {
            return new ActivationParams(1, 0);
        }
        float scale = Half.round(width / 255f);
        if (!Float.isFinite(width) || scale == 0) {
            return new ActivationParams(Float.isFinite(width) ? 1 : scale, 0);
        }
        float numerator = Half.round(Half.round(-128f * hi) - Half.round(127f * lo));
        float zp = Half.round(numerator / width);
        if (!Float.isFinite(zp)) {
            // -128·hi (or 127·lo) leaves fp16 past ±511.75: NumPy's zero point would be -inf (clipped to -128) or NaN;
            // the same formula in float keeps the zero point right for such ranges
            zp = (-128f * hi - 127f * lo) / width;
        }
        return new ActivationParams(scale, (int) Math.max(-128, Math.min(127, Math.rint(zp))));
    }

    /**
     * coremltools' symmetric int8 activation scale ({@code insert_prefix_quantize_dequantize_pair}): the range in
     * fp16, {@code scale = (max - min) / (127 - -127)} with {@code max = -min = max(|rmin|, |rmax|)}, in fp16; a zero
     * scale (an input that was always 0) becomes 1, which leaves values as they are.
     */
    static float activationScale(ActivationRange range) {
        float maxAbs = Math.max(Math.abs(Half.round(range.min())), Math.abs(Half.round(range.max())));
        float scale = Half.round(Half.round(2 * maxAbs) / 254f);
        return scale == 0 ? 1 : scale;
    }

    /** A small tensor that is never quantized (bias, LayerNorm gamma/beta), in the compute type. */
    public Var vector(String name, FloatTensor t) {
        String opName = Names.sanitize(name);
        if (spec == null) {
            return b.constant(opName, Constant.fp32View(t.data(), t.shape()));
        }
        return fp16(opName, name, t);
    }

    /** FP16 constant of {@code t} in its own shape; the bytes are shared with other variants through the cache. */
    private Var fp16(String opName, String name, FloatTensor t) {
        WeightCache.Fp16 f = cache.fp16(name, t, () -> {
            WeightQuantizer.Result r = WeightQuantizer.encode(name, t, QuantSpec.fp16());
            return new WeightCache.Fp16(fp16Bytes((Fp16Weight) r.weight()), r.report());
        });
        reports.add(f.report());
        return b.constant(opName, Constant.ofRaw(TensorType.of(DType.FP16, t.shape()), f.raw()));
    }

    /** Bulk copy (one put, not a putShort per element): the same little-endian bytes. */
    private static byte[] fp16Bytes(Fp16Weight f) {
        ByteBuffer buf = ByteBuffer.allocate(2 * f.halves().length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asShortBuffer().put(f.halves());
        return buf.array();
    }

    private Var place(String opName, EncodedWeight w) {
        if (w instanceof Fp16Weight f) {
            return b.constant(opName, Constant.ofRaw(TensorType.of(DType.FP16, f.shape()), fp16Bytes(f)));
        }
        QuantizedWeight q = (QuantizedWeight) w;
        DType storage = switch (q.spec().type()) {
            case INT8 -> DType.INT8;
            case UINT8 -> DType.UINT8;
            case INT4 -> DType.INT4;
            case UINT4 -> DType.UINT4;
        };
        boolean unsigned = !q.spec().type().signed();
        // 8-bit values are their own storage bytes (two's complement for int8, the low byte for uint8),
        // so they skip the widening to int[] and the per-element bit packing of Constant.integers; the
        // constant wraps the encoding's array, as FP16 constants wrap the cache's bytes: nothing writes
        // either after encoding, and variants sharing the encoding share the array (no 23 MB copy each).
        Constant data = storage.bits() == 8
                ? Constant.ofRaw(TensorType.of(storage, q.shape()), q.values())
                : Constant.integers(storage, ints(q.values(), unsigned), q.shape());
        Constant scale = Constant.fp16(q.scales(), q.scaleShape());
        if (q.spec().kind() == QuantSpec.Kind.PER_CHANNEL) {
            int[] zps = q.zeroPoints() == null ? new int[q.scales().length] : ints(q.zeroPoints(), unsigned);
            Constant zero = Constant.integers(storage, zps, q.scales().length);
            return b.named(opName).affineDequantize(data, zero, scale, 0);
        }
        Constant offset = q.zeroPoints() == null ? null : Constant.integers(storage, ints(q.zeroPoints(), unsigned), q.scaleShape());
        return b.named(opName).blockwiseShiftScale(data, scale, offset);
    }

    private static int[] ints(byte[] values, boolean unsigned) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = unsigned ? values[i] & 0xff : values[i];
        }
        return out;
    }
}

package io.aneforge.quant;

import io.aneforge.kernels.Fp16;
import io.aneforge.kernels.Parallel;
import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;

/**
 * Quantizes weight tensors the way coremltools does (COREML_FORMAT.md §5), so that sizes
 * and errors are comparable with Apple's tooling:
 * <pre>
 *   symmetric: scale = max|w| / qmax            q = clip(rint(w / scale) + zp, zp − qmax, zp + qmax)
 *   affine:    vmin = min(0, min w), vmax = max(0, max w), scale = (vmax − vmin) / (qmax − qmin)
 *              zp = clip(rint((qmin·vmax − qmax·vmin) / (vmax − vmin)))   q = clip(rint(w / scale) + zp)
 *   dequantized: scale · (q − zp)
 * </pre>
 * {@code rint} is round-half-to-even. Two deliberate differences, both documented in the
 * design: the scale is rounded to FP16 first and q is computed with that stored scale (the
 * device dequantizes with the FP16 scale, so this is the error it will see), and an all-zero
 * block gets scale 1 with q = zp so that it dequantizes to exact zeros instead of 0/0.
 *
 * <p>Geometry: weights are {@code [O, I]} (linear) or {@code [O, I, kH, kW]} (conv). Per
 * channel: one scale per output channel, shape {@code [O]}. Per block of B input channels:
 * scale {@code [O, I/B]} or {@code [O, I/B, 1, 1]}; a block then covers B·kH·kW contiguous
 * elements. Tensors that cannot take the requested scheme stay FP16 and the report says why.
 */
public final class WeightQuantizer {

    /** 1.5·2^23: (x + M) − M rounds a float with |x| < 2^22 to an integer, half to even, in float arithmetic. */
    private static final float RINT_MAGIC = 12582912f;
    /** Smallest positive FP16 (subnormal) value; a non-zero block's scale never goes below it. */
    private static final float MIN_FP16_SCALE = 0x1p-24f;
    /** Elements processed per chunk: the scale/offset rows and the float scratch stay in L1/L2. */
    private static final int CHUNK = 4096;

    private WeightQuantizer() {
    }

    /** The encoded weight plus its report. */
    public record Result(EncodedWeight weight, QuantReport report) {
        public Result {
            if (weight == null || report == null) {
                throw new IllegalArgumentException("weight and report are required");
            }
        }
    }

    /** Encodes one tensor as {@code spec} asks (or FP16 when it cannot), and measures the error. */
    public static Result encode(String name, FloatTensor weight, QuantSpec spec) {
        if (name == null || weight == null || spec == null) {
            throw new IllegalArgumentException("name, weight and spec are required");
        }
        String skip = skipReason(weight.shape(), spec);
        EncodedWeight encoded;
        String note;
        if (spec.kind() == QuantSpec.Kind.FP16 || skip != null) {
            encoded = toFp16(name, weight);
            note = skip == null ? "" : skip;
        } else {
            encoded = quantize(name, weight, spec);
            note = "";
        }
        return new Result(encoded, QuantReport.measure(weight.data(), encoded, note));
    }

    /**
     * Why {@code spec} cannot be applied to a weight of this shape (it then stays FP16), or
     * {@code null} when it can.
     */
    public static String skipReason(int[] shape, QuantSpec spec) {
        if (spec.kind() == QuantSpec.Kind.FP16) {
            return null;
        }
        long n = FloatTensor.elementCount(shape);
        if (n <= spec.minElements()) {
            return "kept FP16: " + n + " elements <= threshold " + spec.minElements();
        }
        if (shape.length != 2 && shape.length != 4) {
            return "kept FP16: rank " + shape.length + " is not a linear [O, I] or conv [O, I, kH, kW] weight";
        }
        if (spec.kind() == QuantSpec.Kind.PER_BLOCK && shape[1] % spec.blockSize() != 0) {
            return "kept FP16: input axis " + shape[1] + " is not divisible by block size " + spec.blockSize();
        }
        return null;
    }

    /** FP16 conversion; rejects non-finite values and values beyond the FP16 range. */
    public static Fp16Weight toFp16(String name, FloatTensor weight) {
        float[] w = weight.data();
        short[] halves = new short[w.length];
        for (int i = 0; i < w.length; i++) {
            float v = w[i];
            if (!(Math.abs(v) <= Fp16.MAX_VALUE)) {
                if (!Float.isFinite(v)) {
                    throw nonFinite(name, weight.shape(), w, i);
                }
                throw new QuantizationException("weight tensor '" + name + "' value " + v + " at index "
                        + position(weight.shape(), i) + " exceeds the FP16 range (±65504); "
                        + "rescale the layer or keep this model in FP32");
            }
            halves[i] = Fp16.fromFloat(v);
        }
        return new Fp16Weight(name, weight.shape().clone(), halves);
    }

    /**
     * Quantizes without the fallback: the caller has checked {@link #skipReason}. Throws
     * {@link QuantizationException} for non-finite weights or scales beyond FP16.
     */
    public static QuantizedWeight quantize(String name, FloatTensor weight, QuantSpec spec) {
        int[] shape = weight.shape();
        if (spec.kind() == QuantSpec.Kind.FP16) {
            throw new IllegalArgumentException("quantize() needs an integer scheme, got fp16 for '" + name + "'");
        }
        if (shape.length < 2) {
            throw new QuantizationException("weight tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + "; quantization needs an [O, I, ...] weight");
        }
        int n = weight.size();
        int outChannels = shape[0];
        int[] scaleShape;
        int groups;
        if (spec.kind() == QuantSpec.Kind.PER_CHANNEL) {
            scaleShape = new int[] {outChannels};
            groups = outChannels;
        } else {
            int b = spec.blockSize();
            if (shape[1] % b != 0) {
                throw new QuantizationException("weight tensor '" + name + "' input axis " + shape[1]
                        + " is not divisible by block size " + b + "; keep it FP16 or pick another block size");
            }
            scaleShape = new int[shape.length];
            Arrays.fill(scaleShape, 1);
            scaleShape[0] = outChannels;
            scaleShape[1] = shape[1] / b;
            groups = outChannels * (shape[1] / b);
        }
        byte[] q = new byte[n];
        float[] scales = new float[groups];
        boolean needZeroPoints = spec.mode() == QuantMode.AFFINE || !spec.type().signed();
        byte[] zps = needZeroPoints ? new byte[groups] : null;
        int len = groups == 0 ? 0 : n / groups;
        float[] w = weight.data();
        // Parallel over whole groups: each group is independent and contiguous.
        int minGroups = Math.max(1, (1 << 16) / Math.max(1, len));
        Parallel.forRange(groups, minGroups, (g0, g1) -> quantizeGroups(name, shape, w, len, g0, g1, spec, q, scales, zps));
        return new QuantizedWeight(name, spec, shape.clone(), q, scaleShape, scales, zps);
    }

    /**
     * Groups {@code [g0, g1)}, a chunk of about {@value #CHUNK} elements at a time. Per group
     * (short loops): range, scale rounded to FP16, zero point, written out as per-element
     * scale/offset rows. Then two long loops over the chunk that C2 vectorizes: float math
     * ({@code w / s + M} rounds half-even, {@code + zp} is exact, clamp in float), then the
     * float → byte narrowing ({@code (int)(M + q)} has q in its low byte since M = 0xC00000).
     * Splitting the loops matters: fused, the float-to-int cast stops the vectorization.
     */
    private static void quantizeGroups(String name, int[] shape, float[] w, int len, int g0, int g1, QuantSpec spec,
                                       byte[] q, float[] scales, byte[] zps) {
        if (len == 0 || g0 >= g1) {
            return;
        }
        int chunkGroups = Math.max(1, Math.min(g1 - g0, CHUNK / len));
        int chunk = chunkGroups * len;
        float[] sRow = new float[chunk];
        float[] zRow = new float[chunk];
        float[] wc = new float[chunk];
        float[] t = new float[chunk];
        byte[] qc = new byte[chunk];
        int[] bounds = new int[3];
        for (int c0 = g0; c0 < g1; c0 += chunkGroups) {
            int c1 = Math.min(g1, c0 + chunkGroups);
            for (int g = c0; g < c1; g++) {
                float s = groupParameters(name, shape, w, g * len, len, spec, g, bounds);
                scales[g] = s;
                if (zps != null) {
                    zps[g] = (byte) bounds[0];
                }
                int r = (g - c0) * len;
                Arrays.fill(sRow, r, r + len, s);
                Arrays.fill(zRow, r, r + len, bounds[0]);
            }
            float lo = RINT_MAGIC + bounds[1];
            float hi = RINT_MAGIC + bounds[2];
            int n = (c1 - c0) * len;
            int base = c0 * len;
            // Same index in every array: with mixed offsets (w[base + i] next to t[i]) C2 leaves these loops scalar.
            System.arraycopy(w, base, wc, 0, n);
            for (int i = 0; i < n; i++) {
                float x = (wc[i] / sRow[i] + RINT_MAGIC) + zRow[i];
                t[i] = Math.min(hi, Math.max(lo, x));
            }
            for (int i = 0; i < n; i++) {
                qc[i] = (byte) (int) t[i];
            }
            System.arraycopy(qc, 0, q, base, n);
        }
    }

    /**
     * Scale (rounded to FP16) of one group; writes {zero point, lowest q, highest q} into
     * {@code out}. The bounds are the same for every group of a tensor.
     */
    private static float groupParameters(String name, int[] shape, float[] w, int off, int len, QuantSpec spec, int g,
                                         int[] out) {
        // Range including 0 (both modes need it); NaN and ±inf propagate through min/max.
        // Four independent accumulator pairs: a single Math.max chain is latency-bound (~2x slower).
        float x0 = 0f;
        float x1 = 0f;
        float x2 = 0f;
        float x3 = 0f;
        float n0 = 0f;
        float n1 = 0f;
        float n2 = 0f;
        float n3 = 0f;
        int i = off;
        int end = off + len;
        for (; i + 4 <= end; i += 4) {
            float v0 = w[i];
            float v1 = w[i + 1];
            float v2 = w[i + 2];
            float v3 = w[i + 3];
            x0 = Math.max(x0, v0);
            x1 = Math.max(x1, v1);
            x2 = Math.max(x2, v2);
            x3 = Math.max(x3, v3);
            n0 = Math.min(n0, v0);
            n1 = Math.min(n1, v1);
            n2 = Math.min(n2, v2);
            n3 = Math.min(n3, v3);
        }
        for (; i < end; i++) {
            x0 = Math.max(x0, w[i]);
            n0 = Math.min(n0, w[i]);
        }
        float mx = Math.max(Math.max(x0, x1), Math.max(x2, x3));
        float mn = Math.min(Math.min(n0, n1), Math.min(n2, n3));
        if (!Float.isFinite(mx) || !Float.isFinite(mn)) {
            for (int k = off; k < end; k++) {
                if (!Float.isFinite(w[k])) {
                    throw nonFinite(name, shape, w, k);
                }
            }
        }
        QuantType t = spec.type();
        int lo;
        int hi;
        int zp;
        double scale;
        if (spec.mode() == QuantMode.SYMMETRIC) {
            int qmax = (t.max() - t.min()) / 2; // int8/uint8: 127, int4/uint4: 7
            zp = t.signed() ? 0 : (t.min() + t.max() + 1) / 2; // uint8: 128, uint4: 8
            lo = zp - qmax;
            hi = zp + qmax;
            scale = Math.max((double) mx, -(double) mn) / qmax;
        } else {
            lo = t.min();
            hi = t.max();
            double range = (double) mx - mn;
            scale = range / (hi - lo);
            zp = range == 0 ? (t.signed() ? 0 : lo)
                    : (int) Math.max(lo, Math.min(hi, Math.rint((lo * (double) mx - hi * (double) mn) / range)));
        }
        out[0] = zp;
        out[1] = lo;
        out[2] = hi;
        if (scale == 0) {
            // All-zero block: any scale reproduces it exactly with q = zp; coremltools would divide by 0 here.
            return 1f;
        }
        float s = Fp16.round((float) scale);
        if (Float.isInfinite(s)) {
            throw new QuantizationException("weight tensor '" + name + "' block " + g + " needs scale " + scale
                    + ", beyond FP16 (max 65504); its weights reach " + Math.max(mx, -mn)
                    + " — rescale the layer or keep it FP16/FP32");
        }
        return Math.max(s, MIN_FP16_SCALE);
    }

    private static QuantizationException nonFinite(String name, int[] shape, float[] w, int index) {
        return new QuantizationException("weight tensor '" + name + "' has a non-finite value (" + w[index]
                + ") at index " + position(shape, index) + " (flat " + index + "); "
                + "the checkpoint is corrupt or overflowed — fix the source weights, quantization cannot represent it");
    }

    /** Multi-dimensional position of a flat row-major index, e.g. {@code [3, 82]}. */
    static String position(int[] shape, int flat) {
        int[] pos = new int[shape.length];
        int rem = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] > 0) {
                pos[d] = rem % shape[d];
                rem /= shape[d];
            }
        }
        return Arrays.toString(pos);
    }
}

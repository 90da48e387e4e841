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
 *
 * <p>The above is {@link QuantSpec.ScaleFit#RANGE}, the default. A spec with
 * {@link QuantSpec.ScaleFit#MSE} asks for the clip search instead ({@link ClipSearch}: per group
 * the FP16 scale, and for affine the zero point, with the least squared error); it runs on its
 * own scalar path whichever {@link Kernel} is asked for, because the fast kernels implement the
 * range formulas only. Storage, geometry, the all-zero rule and the non-finite checks are the same.
 */
public final class WeightQuantizer {

    /** {@code -Daneforge.quant.kernel=reference} runs the scalar definition (to rule the fast path out when debugging). */
    private static final Kernel DEFAULT_KERNEL =
            "reference".equalsIgnoreCase(System.getProperty("aneforge.quant.kernel")) ? Kernel.REFERENCE : Kernel.FAST;

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
        return encode(name, weight, spec, null);
    }

    /**
     * Like {@link #encode(String, FloatTensor, QuantSpec)}, with what calibration saw at the weight's input
     * ({@code inputs}, may be null) for a {@link QuantSpec.ScaleFit#GPTQ} spec. A tensor GPTQ cannot take (no
     * calibration inputs reached it, as for embedding tables, or not an {@code [O, I]} weight) gets the range fit,
     * and its report says so.
     */
    public static Result encode(String name, FloatTensor weight, QuantSpec spec, InputGram inputs) {
        if (name == null || weight == null || spec == null) {
            throw new IllegalArgumentException("name, weight and spec are required");
        }
        if (spec.scaleFit() == QuantSpec.ScaleFit.GPTQ && skipReason(weight.shape(), spec) == null) {
            if (inputs != null && inputs.tokens() > 0 && Gptq.applies(weight.shape(), spec)) {
                QuantizedWeight q = Gptq.quantize(name, weight, spec, inputs);
                return new Result(q, QuantReport.measure(weight.data(), q, ""));
            }
            // the range fit's encoding and report (one fused pass where the lanes allow), with the reason noted
            Result r = encode(name, weight, spec.withScaleFit(QuantSpec.ScaleFit.RANGE));
            QuantReport m = r.report();
            return new Result(r.weight(), new QuantReport(m.tensor(), m.scheme(), m.blockSize(), m.maxAbsError(),
                    m.sqnrDb(), m.bytesBefore(), m.bytesAfter(), inputs == null || inputs.tokens() == 0
                    ? "range fit: no calibration inputs reach this tensor (GPTQ needs them)"
                    : "range fit: GPTQ takes [O, I] weights only"));
        }
        String skip = skipReason(weight.shape(), spec);
        EncodedWeight encoded;
        String note;
        if (spec.kind() == QuantSpec.Kind.FP16 || skip != null) {
            note = skip == null ? "" : skip;
            Result measured = fp16Measured(name, weight, note);
            if (measured != null) {
                return measured;
            }
            encoded = toFp16(name, weight);
        } else {
            Result measured = quantizedMeasured(name, weight, spec);
            if (measured != null) {
                return measured;
            }
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

    /**
     * {@link #toFp16} and its report in one pass over the weight: each piece of the report
     * ({@link QuantReport#CHUNK} values) is converted, then measured while it is in cache, instead of a
     * second pass over the whole FP32 weight (93 MB for all-MiniLM-L6-v2's, read back from memory). The
     * same halves and report. Null, without having changed anything, where the lanes are off or a value
     * is beyond the FP16 range (then {@link #toFp16} reports it).
     */
    private static Result fp16Measured(String name, FloatTensor weight, String note) {
        if (!(io.aneforge.vector.VectorPath.enabled() && VectorErrorSums.usable())) {
            return null;
        }
        float[] w = weight.data();
        short[] halves = new short[w.length];
        double[] chains = new double[3 * QuantReport.CHAINS];
        VectorErrorSums.Fp16Pieces pieces = new VectorErrorSums.Fp16Pieces();
        int span = 8 * QuantReport.CHUNK; // converted at a time (32 KiB of floats, in L2 when measured)
        for (int from = 0; from < w.length; from += span) {
            int to = Math.min(w.length, from + span);
            if (Fp16.fromFloatsWithinRange(w, halves, from, to) != to) {
                return null;
            }
            for (int p = from; p < to; p += QuantReport.CHUNK) {
                pieces.add(w, p, Math.min(QuantReport.CHUNK, to - p), chains);
            }
        }
        Fp16Weight encoded = new Fp16Weight(name, weight.shape().clone(), halves);
        return new Result(encoded, QuantReport.of(w.length, encoded, note, chains));
    }

    /**
     * {@link #quantize} and its report with the report's pieces measured by the task that quantized them, while
     * the piece is in cache, instead of a second pass over the whole FP32 weight; each task takes whole pieces
     * ({@link QuantReport#CHUNK} values, whole groups when the group length divides it, as blocks of 32, 64 and
     * 128 do), and the pieces' float sums are folded in order afterwards, so the report has the bits of
     * {@link QuantReport#measure}. Null where the lanes are off, the fit is not the range fit, or groups straddle
     * pieces (per-channel weights): then the caller quantizes and measures in two passes.
     */
    private static Result quantizedMeasured(String name, FloatTensor weight, QuantSpec spec) {
        if (!(io.aneforge.vector.VectorPath.enabled() && VectorErrorSums.usable()) || DEFAULT_KERNEL != Kernel.FAST
                || spec.scaleFit() != QuantSpec.ScaleFit.RANGE || spec.kind() != QuantSpec.Kind.PER_BLOCK
                || weight.shape().length < 2 || weight.size() == 0 || weight.shape()[1] % spec.blockSize() != 0
                || weight.size() / weight.shape()[0] != weight.shape()[1] // [O, I] or [O, I, 1, 1]: a block is blockSize values
                || QuantReport.CHUNK % spec.blockSize() != 0 || spec.blockSize() % QuantReport.CHAINS != 0) {
            return null;
        }
        int[] shape = weight.shape();
        int len = spec.blockSize();
        int groups = weight.size() / len;
        QuantizedWeight q = new QuantizedWeight(name, spec, shape.clone(), new byte[weight.size()],
                blockScaleShape(shape, len), new float[groups], needsZeroPoints(spec) ? new byte[groups] : null);
        float[] w = weight.data();
        GroupScale grid = new GroupScale(name, spec);
        int perPiece = QuantReport.CHUNK / len;
        int pieces = (groups + perPiece - 1) / perPiece;
        float[][] sums = new float[3 * pieces][]; // per piece: its Σw², Σe² and max|e| chains
        int minPieces = Math.max(1, (1 << 16) / QuantReport.CHUNK); // 64 K values per task, as quantize's groups
        Parallel.forRange(pieces, minPieces, (p0, p1) -> {
            BlockKernel.quantize(shape, w, len, p0 * perPiece, Math.min(groups, p1 * perPiece), grid, q.values(),
                    q.scales(), q.zeroPoints());
            for (int p = p0; p < p1; p++) {
                for (int k = 0; k < 3; k++) {
                    sums[3 * p + k] = new float[QuantReport.CHAINS];
                }
                VectorErrorSums.quantizedPiece(w, q, p, sums[3 * p], sums[3 * p + 1], sums[3 * p + 2]);
            }
        });
        double[] chains = new double[3 * QuantReport.CHAINS];
        for (int p = 0; p < pieces; p++) {
            QuantReport.fold(sums[3 * p], sums[3 * p + 1], sums[3 * p + 2], chains);
        }
        return new Result(q, QuantReport.of(w.length, q, "", chains));
    }

    /** Scales of block-wise quantization: one per output channel and block of {@code block} inputs, trailing axes 1. */
    static int[] blockScaleShape(int[] shape, int block) {
        int[] scaleShape = new int[shape.length];
        Arrays.fill(scaleShape, 1);
        scaleShape[0] = shape[0];
        scaleShape[1] = shape[1] / block;
        return scaleShape;
    }

    /** Affine schemes and unsigned types store a zero point per group. */
    private static boolean needsZeroPoints(QuantSpec spec) {
        return spec.mode() == QuantMode.AFFINE || !spec.type().signed();
    }

    /** FP16 conversion; rejects non-finite values and values beyond the FP16 range. */
    public static Fp16Weight toFp16(String name, FloatTensor weight) {
        float[] w = weight.data();
        short[] halves = new short[w.length];
        // the fast path converts up to the first value beyond FP16; the loop below reports it
        for (int i = Fp16.fromFloatsWithinRange(w, halves, 0, w.length); i < w.length; i++) {
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
        return quantize(name, weight, spec, DEFAULT_KERNEL);
    }

    /** Which implementation {@link #quantize} runs for the range fit; both give bit-identical results. */
    enum Kernel {
        /** Scalar, one group at a time, straight from the formulas: the definition the fast path is tested against. */
        REFERENCE,
        /** {@link BlockKernel}: chunked loops C2 vectorizes, with a tree for the range of power-of-two groups. */
        FAST
    }

    static QuantizedWeight quantize(String name, FloatTensor weight, QuantSpec spec, Kernel kernel) {
        int[] shape = weight.shape();
        if (spec.kind() == QuantSpec.Kind.FP16) {
            throw new IllegalArgumentException("quantize() needs an integer scheme, got fp16 for '" + name + "'");
        }
        if (spec.scaleFit() == QuantSpec.ScaleFit.GPTQ) {
            throw new IllegalArgumentException("GPTQ needs what calibration saw at the input of '" + name
                    + "': use encode(name, weight, spec, inputs) or Gptq.quantize");
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
            scaleShape = blockScaleShape(shape, b);
            groups = outChannels * (shape[1] / b);
        }
        byte[] q = new byte[n];
        float[] scales = new float[groups];
        byte[] zps = needsZeroPoints(spec) ? new byte[groups] : null;
        int len = groups == 0 ? 0 : n / groups;
        float[] w = weight.data();
        GroupScale grid = new GroupScale(name, spec);
        if (spec.scaleFit() == QuantSpec.ScaleFit.MSE) {
            // The clip search is its own reference; the fast kernels implement the range fit only.
            ClipSearch search = new ClipSearch(grid);
            int minGroups = Math.max(1, (1 << 12) / Math.max(1, len));
            Parallel.forRange(groups, minGroups, (g0, g1) -> search.quantize(shape, w, len, g0, g1, q, scales, zps));
        } else if (kernel == Kernel.FAST && len > 0) {
            // Parallel over whole groups: each group is independent and contiguous.
            int minGroups = Math.max(1, (1 << 16) / len);
            Parallel.forRange(groups, minGroups,
                    (g0, g1) -> BlockKernel.quantize(shape, w, len, g0, g1, grid, q, scales, zps));
        } else {
            quantizeReference(shape, w, len, groups, grid, q, scales, zps);
        }
        return new QuantizedWeight(name, spec, shape.clone(), q, scaleShape, scales, zps);
    }

    /**
     * The definition, one element at a time: range of the group (including 0), its scale and
     * zero point, then {@code q = clip(rint(w / scale) + zp)}. {@link BlockKernel} must agree
     * with this bit for bit (WeightQuantizerKernelTest).
     */
    private static void quantizeReference(int[] shape, float[] w, int len, int groups, GroupScale grid,
                                          byte[] q, float[] scales, byte[] zps) {
        for (int g = 0; g < groups; g++) {
            int off = g * len;
            float mx = 0f;
            float mn = 0f;
            for (int i = off; i < off + len; i++) {
                mx = Math.max(mx, w[i]);
                mn = Math.min(mn, w[i]);
            }
            checkFinite(grid.name(), shape, w, off, len, mx, mn);
            float s = grid.scale(mx, mn, g);
            int zp = grid.zeroPoint(mx, mn);
            scales[g] = s;
            if (zps != null) {
                zps[g] = (byte) zp;
            }
            for (int i = off; i < off + len; i++) {
                double v = Math.rint(w[i] / s) + zp;
                q[i] = (byte) (int) Math.max(grid.lo(), Math.min(grid.hi(), v));
            }
        }
    }

    /** Math.max/min propagate NaN and ±inf: a non-finite range means a non-finite weight in the group. */
    static void checkFinite(String name, int[] shape, float[] w, int off, int len, float mx, float mn) {
        if (!Float.isFinite(mx) || !Float.isFinite(mn)) {
            for (int k = off; k < off + len; k++) {
                if (!Float.isFinite(w[k])) {
                    throw nonFinite(name, shape, w, k);
                }
            }
            throw new IllegalStateException("group range [" + mn + ", " + mx + "] at " + off
                    + " is non-finite but its " + len + " weights are finite");
        }
    }

    static QuantizationException nonFinite(String name, int[] shape, float[] w, int index) {
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

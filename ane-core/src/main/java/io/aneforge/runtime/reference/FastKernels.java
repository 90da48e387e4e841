package io.aneforge.runtime.reference;

import io.aneforge.kernels.Activations;
import io.aneforge.kernels.Einsum;
import io.aneforge.kernels.Elementwise;
import io.aneforge.kernels.Gemm;
import io.aneforge.kernels.MatMul;
import io.aneforge.kernels.Normalization;
import io.aneforge.kernels.Parallel;
import io.aneforge.kernels.Transpose;
import io.aneforge.mil.Arg;
import io.aneforge.mil.OpContext;
import io.aneforge.mil.OpDef;
import io.aneforge.mil.Operation;
import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;

/**
 * Fast kernels for the ops that dominate transformer inference, built once per op at load
 * time with everything that does not change between predictions precomputed (transposed
 * linear weights, conv geometry, axes). {@link #create} returns null when an op (or this
 * use of it, e.g. a conv whose weight is not a constant) has no fast path; the op then runs
 * its scalar reference evaluation. Results agree with the scalar evaluations up to FP32
 * rounding (float accumulation with FMA instead of double), see {@code FastVsScalarTest}.
 */
final class FastKernels {

    /** Marks a kernel as a fast path (for plan statistics). */
    static class Fast implements Kernel {
        private final Kernel body;

        Fast(Kernel body) {
            this.body = body;
        }

        @Override
        public FloatTensor[] run(FloatTensor[] frame) {
            return body.run(frame);
        }
    }

    /** A fast path that also runs a whole group of predictions in one call. */
    static final class FastGroup extends Fast implements GroupKernel {
        private final GroupKernel body;

        FastGroup(GroupKernel body) {
            super(body);
            this.body = body;
        }

        @Override
        public FloatTensor[][] runAll(FloatTensor[][] frames) {
            return body.runAll(frames);
        }

        @Override
        public FloatTensor[][] runAll(FloatTensor[][] frames, int[] positions) {
            return body.runAll(frames, positions);
        }
    }

    private FastKernels() {
    }

    static Kernel create(Operation op, OpDef def, ExecutionPlan.Slots slots) {
        OpContext c = new OpContext(def, op.name(), op.inputs(), op.attributes());
        int[] outShape = op.outputs().get(0).shape();
        Kernel k;
        switch (op.type()) {
            case "matmul" -> k = matmul(c, slots);
            case "linear" -> k = linear(c, slots, outShape);
            case "conv" -> k = conv(c, slots, outShape);
            case "einsum" -> k = einsum(c, slots, outShape);
            case "softmax" -> {
                int x = slots.slot(arg(c, "x"));
                int axis = c.intValue("axis");
                k = f -> one(Normalization.softmax(f[x], axis, true));
            }
            case "layer_norm" -> k = layerNorm(c, slots);
            case "gelu" -> k = gelu(c, slots);
            case "add" -> k = binary(c, slots, Elementwise.Op.ADD);
            case "sub" -> k = binary(c, slots, Elementwise.Op.SUB);
            case "mul" -> k = binary(c, slots, Elementwise.Op.MUL);
            case "real_div" -> k = binary(c, slots, Elementwise.Op.DIV);
            case "transpose" -> {
                int x = slots.slot(arg(c, "x"));
                int[] perm = c.ints("perm");
                k = f -> one(Transpose.transpose(f[x], perm, true));
            }
            default -> k = null;
        }
        if (k == null) {
            return null;
        }
        return k instanceof GroupKernel g ? new FastGroup(g) : new Fast(k);
    }

    private static Arg arg(OpContext c, String param) {
        return c.args(param).get(0);
    }

    private static FloatTensor[] one(FloatTensor t) {
        return new FloatTensor[]{t};
    }

    private static Kernel matmul(OpContext c, ExecutionPlan.Slots slots) {
        int x = slots.slot(arg(c, "x"));
        int y = slots.slot(arg(c, "y"));
        boolean tx = c.boolValue("transpose_x");
        boolean ty = c.boolValue("transpose_y");
        return f -> one(MatMul.matmul(f[x], f[y], tx, ty, true));
    }

    /**
     * {@code y = x·Wᵀ + b} with Wᵀ packed for the GEMM once, at load, and the bias added as C is written.
     * Not a {@link GroupKernel}: stacking a group's rows into one 256-row product (8 predictions × 32
     * positions) measured no faster on the convert's fidelity predictions (standard fp16, new/old per
     * round, medians 0.97-1.04 over four A/B runs), since Wᵀ is already read one panel at a time.
     */
    private static Kernel linear(OpContext c, ExecutionPlan.Slots slots, int[] outShape) {
        FloatTensor b = c.has("bias") ? slots.loadTimeValue(arg(c, "bias")) : null;
        if (!slots.isLoadTimeArg(arg(c, "weight")) || (c.has("bias") && b == null)) {
            return null;
        }
        int[] ws = c.shape("weight");
        int out = ws[0];
        int in = ws[1];
        // a weight not decoded yet is packed from its encoded rows; one already decoded, from its floats
        Gemm.Source encoded = slots.loadTimeSource(arg(c, "weight"), in);
        Gemm.Packed wt = encoded != null
                ? slots.packTransposed(arg(c, "weight"), in, out, encoded)
                : Gemm.pack(in, out, slots.loadTimeValue(arg(c, "weight")).data(), 0, in, true);
        slots.copiedAtLoad(arg(c, "weight")); // the kernel reads only wt
        float[] bias = b == null || allZero(b.data()) ? null : b.data();
        int x = slots.slot(arg(c, "x"));
        Kernel single = f -> {
            float[] xd = f[x].data();
            int rows = in == 0 ? 0 : xd.length / in;
            float[] y = new float[rows * out];
            Gemm.fast(rows, xd, 0, in, false, wt, bias, y, 0, out, true);
            return one(new FloatTensor(outShape, y));
        };
        return new GroupKernel() {
            @Override
            public FloatTensor[] run(FloatTensor[] f) {
                return single.run(f);
            }

            @Override
            public FloatTensor[][] runAll(FloatTensor[][] frames) {
                FloatTensor[][] outs = new FloatTensor[frames.length][];
                for (int r = 0; r < frames.length; r++) {
                    outs[r] = single.run(frames[r]);
                }
                return outs;
            }

            /**
             * The rows are positions here: the first {@code positions[r]} rows of every prediction, one after
             * another, as one product (Wᵀ read once per group, and no work on padded positions); each row of
             * C is the same FMA chains whichever product it is computed in (Gemm), so the real rows are
             * {@link #run}'s bits. The other rows stay zero.
             */
            @Override
            public FloatTensor[][] runAll(FloatTensor[][] frames, int[] positions) {
                if (in == 0) {
                    return runAll(frames);
                }
                int total = 0;
                for (int p : positions) {
                    total += p;
                }
                float[] a = new float[total * in];
                for (int r = 0, at = 0; r < frames.length; at += positions[r++]) {
                    System.arraycopy(frames[r][x].data(), 0, a, at * in, positions[r] * in);
                }
                float[] c = new float[total * out];
                Gemm.fast(total, a, 0, in, false, wt, bias, c, 0, out, true);
                FloatTensor[][] outs = new FloatTensor[frames.length][];
                for (int r = 0, at = 0; r < frames.length; at += positions[r++]) {
                    float[] y = new float[frames[r][x].data().length / in * out];
                    System.arraycopy(c, at * out, y, 0, positions[r] * out);
                    outs[r] = one(new FloatTensor(outShape, y));
                }
                return outs;
            }
        };
    }

    private static boolean allZero(float[] a) {
        for (float v : a) {
            if (v != 0f) {
                return false;
            }
        }
        return true;
    }

    /**
     * Convolution as GEMM per image and group: {@code y[g] = W[g] · col[g]} where
     * {@code col} holds the input patches ({@code [Cin/groups·kh·kw, oh·ow]}, im2col). A 1×1
     * stride-1 unpadded conv needs no im2col: the input itself is {@code [Cin, H·W]}.
     * Rank-3 input is treated as height 1. Same geometry rules as the scalar evaluation.
     */
    private static Kernel conv(OpContext c, ExecutionPlan.Slots slots, int[] outShape) {
        FloatTensor b = c.has("bias") ? slots.loadTimeValue(arg(c, "bias")) : null;
        if (!slots.isLoadTimeArg(arg(c, "weight")) || (c.has("bias") && b == null)) {
            return null;
        }
        int[] xs = c.shape("x");
        boolean oneD = xs.length == 3;
        int n = xs[0];
        int cin = xs[1];
        int h = oneD ? 1 : xs[2];
        int wd = xs[xs.length - 1];
        int[] ws = c.shape("weight");
        int cout = ws[0];
        int cg = ws[1];
        int kh = oneD ? 1 : ws[2];
        int kw = ws[ws.length - 1];
        int groups = c.intValue("groups");
        int[] strides = c.ints("strides");
        int[] dil = c.ints("dilations");
        int[] pad = c.ints("pad");
        String padType = c.string("pad_type");
        int sr = xs.length - 2;
        int[] padBegin = new int[sr];
        for (int i = 0; i < sr; i++) {
            int k = (ws[i + 2] - 1) * dil[i] + 1;
            int o = outShape[i + 2];
            switch (padType) {
                case "custom" -> padBegin[i] = pad[2 * i];
                case "valid" -> padBegin[i] = 0;
                default -> {
                    int total = Math.max((o - 1) * strides[i] + k - xs[i + 2], 0);
                    padBegin[i] = padType.equals("same") ? total / 2 : (total + 1) / 2;
                }
            }
        }
        int oh = oneD ? 1 : outShape[2];
        int ow = outShape[outShape.length - 1];
        int sh = oneD ? 1 : strides[0];
        int sw = strides[sr - 1];
        int dh = oneD ? 1 : dil[0];
        int dw = dil[sr - 1];
        int ph = oneD ? 0 : padBegin[0];
        int pw = padBegin[sr - 1];
        float[] bias = b == null || allZero(b.data()) ? null : b.data();
        int x = slots.slot(arg(c, "x"));
        int coutG = cout / groups;
        int kk = cg * kh * kw;
        int ohw = oh * ow;
        boolean direct = kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && oh == h && ow == wd;
        if (direct && groups == 1) {
            // A direct conv is y[img] = W · x[img] with x[img] = [Cin, H·W]: W's rows interleaved once, at load,
            // shared by every image of every prediction of a group (see StackedGemm.Conv). One prediction takes
            // the same path as a group of one: with the interleaved W and its rows split over the threads it
            // measured 1.7-2.1× faster than the per-call product below (which reads W in place, one panel,
            // one thread) at 32 positions. A weight not decoded yet is interleaved from its encoded rows.
            Gemm.Source rows = slots.loadTimeSource(arg(c, "weight"), cin);
            Gemm.PackedA packed = rows != null
                    ? slots.packA(arg(c, "weight"), cout, cin, rows)
                    : Gemm.packA(cout, cin, slots.loadTimeValue(arg(c, "weight")).data(), 0, cin);
            StackedGemm.Conv stacked = new StackedGemm.Conv(packed, cin, cout, n, ohw, bias, x, outShape);
            slots.copiedAtLoad(arg(c, "weight")); // read only through stacked's Gemm.PackedA
            return new GroupKernel() {
                @Override
                public FloatTensor[] run(FloatTensor[] f) {
                    return stacked.runAll(new FloatTensor[][]{f})[0];
                }

                @Override
                public FloatTensor[][] runAll(FloatTensor[][] frames) {
                    return stacked.runAll(frames);
                }

                @Override
                public FloatTensor[][] runAll(FloatTensor[][] frames, int[] positions) {
                    return stacked.runAll(frames, positions);
                }
            };
        }
        float[] wd0 = slots.loadTimeValue(arg(c, "weight")).data();
        Kernel single = f -> {
            float[] in = f[x].data();
            float[] y = new float[n * cout * ohw];
            float[] col = direct ? null : new float[kk * ohw];
            for (int img = 0; img < n; img++) {
                for (int g = 0; g < groups; g++) {
                    int inOff = (img * cin + g * cg) * h * wd;
                    float[] src;
                    int srcOff;
                    if (direct) {
                        src = in;
                        srcOff = inOff;
                    } else {
                        im2col(in, inOff, h, wd, cg, kh, kw, oh, ow, sh, sw, dh, dw, ph, pw, col);
                        src = col;
                        srcOff = 0;
                    }
                    Gemm.fast(coutG, ohw, kk, wd0, g * coutG * kk, kk, false, src, srcOff, ohw, false,
                            y, (img * cout + g * coutG) * ohw, ohw, true);
                }
            }
            if (bias != null) {
                addChannelBias(y, bias, n, cout, ohw);
            }
            return one(new FloatTensor(outShape, y));
        };
        return single;
    }

    /** {@code y[img][c][p] += bias[c]} over {@code [images, channels, positions]}: a conv's bias, after the product. */
    static void addChannelBias(float[] y, float[] bias, int images, int channels, int positions) {
        for (int img = 0; img < images; img++) {
            for (int c = 0; c < channels; c++) {
                float bv = bias[c];
                int base = (img * channels + c) * positions;
                for (int p = 0; p < positions; p++) {
                    y[base + p] += bv;
                }
            }
        }
    }

    private static void im2col(float[] in, int off, int h, int w, int channels, int kh, int kw, int oh, int ow,
                               int sh, int sw, int dh, int dw, int ph, int pw, float[] col) {
        int ohw = oh * ow;
        Parallel.forRange(channels * kh * kw, Math.max(1, (1 << 14) / Math.max(1, ohw)), (from, to) -> {
            for (int row = from; row < to; row++) {
                int ch = row / (kh * kw);
                int ky = (row / kw) % kh;
                int kx = row % kw;
                int base = row * ohw;
                for (int oy = 0; oy < oh; oy++) {
                    int iy = oy * sh - ph + ky * dh;
                    int o = base + oy * ow;
                    if (iy < 0 || iy >= h) {
                        Arrays.fill(col, o, o + ow, 0f);
                        continue;
                    }
                    int src = off + (ch * h + iy) * w;
                    for (int ox = 0; ox < ow; ox++) {
                        int ix = ox * sw - pw + kx * dw;
                        col[o + ox] = ix < 0 || ix >= w ? 0f : in[src + ix];
                    }
                }
            }
        });
    }

    /** The two MIL einsum patterns; rank 3 is lifted to rank 4 with a leading 1 (shapes were checked at load). */
    private static Kernel einsum(OpContext c, ExecutionPlan.Slots slots, int[] outShape) {
        int a = slots.slot(c.args("values").get(0));
        int b = slots.slot(c.args("values").get(1));
        return f -> {
            FloatTensor ta = lift(f[a]);
            FloatTensor tb = lift(f[b]);
            FloatTensor r = Einsum.nchwNwhu(ta, tb, true);
            return one(new FloatTensor(outShape, r.data()));
        };
    }

    private static FloatTensor lift(FloatTensor t) {
        if (t.rank() == 4) {
            return t;
        }
        int[] s = t.shape();
        return new FloatTensor(new int[]{1, s[0], s[1], s[2]}, t.data());
    }

    private static Kernel layerNorm(OpContext c, ExecutionPlan.Slots slots) {
        int[] raw = c.ints("axes");
        int rank = c.rank("x");
        int[] axes = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            axes[i] = raw[i] < 0 ? raw[i] + rank : raw[i];
        }
        Arrays.sort(axes);
        for (int i = 1; i < axes.length; i++) {
            if (axes[i] != axes[i - 1] + 1) {
                return null; // the kernel needs contiguous axes; the scalar evaluation handles any
            }
        }
        FloatTensor gamma = c.has("gamma") ? slots.loadTimeValue(arg(c, "gamma")) : null;
        FloatTensor beta = c.has("beta") ? slots.loadTimeValue(arg(c, "beta")) : null;
        if ((c.has("gamma") && gamma == null) || (c.has("beta") && beta == null)) {
            return null;
        }
        float eps = c.floatValue("epsilon");
        int x = slots.slot(arg(c, "x"));
        return f -> one(Normalization.layerNorm(f[x], axes, gamma, beta, eps, true));
    }

    private static Kernel gelu(OpContext c, ExecutionPlan.Slots slots) {
        int x = slots.slot(arg(c, "x"));
        switch (c.string("mode")) {
            case "EXACT":
                return f -> one(Activations.geluErfFast(f[x]));
            case "TANH_APPROXIMATION":
                return f -> one(Activations.geluTanh(f[x]));
            default:
                return null;
        }
    }

    private static Kernel binary(OpContext c, ExecutionPlan.Slots slots, Elementwise.Op kind) {
        int x = slots.slot(arg(c, "x"));
        int y = slots.slot(arg(c, "y"));
        return f -> one(Elementwise.binary(kind, f[x], f[y], true));
    }
}

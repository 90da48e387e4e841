package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;

/**
 * Binary element-wise ops with NumPy broadcasting (MIL {@code add}, {@code sub}, {@code mul},
 * {@code real_div}). The scalar version computes every element's source indices; the fast
 * version walks the output row by row with one of four specialized inner loops (each side either
 * contiguous or a broadcast scalar) and splits rows over threads; a row is the longest run of axes
 * both sides step through evenly ({@link #coalesce}), not just the last axis.
 */
public final class Elementwise {

    public enum Op {
        ADD, SUB, MUL, DIV;

        float apply(float a, float b) {
            switch (this) {
                case ADD: return a + b;
                case SUB: return a - b;
                case MUL: return a * b;
                default: return a / b;
            }
        }
    }

    private Elementwise() {
    }

    public static FloatTensor add(FloatTensor a, FloatTensor b) {
        return binary(Op.ADD, a, b, Kernels.isFast());
    }

    public static FloatTensor mul(FloatTensor a, FloatTensor b) {
        return binary(Op.MUL, a, b, Kernels.isFast());
    }

    public static FloatTensor binary(Op op, FloatTensor a, FloatTensor b, boolean fast) {
        int[] shape = Shapes.broadcast(a.shape(), b.shape(), op.name().toLowerCase());
        int[] sa = Shapes.broadcastStrides(a.shape(), shape);
        int[] sb = Shapes.broadcastStrides(b.shape(), shape);
        int n = Shapes.size(shape);
        float[] out = new float[n];
        float[] ad = a.data();
        float[] bd = b.data();
        int rank = shape.length;
        if (!fast || rank == 0) {
            for (int i = 0; i < n; i++) {
                int rem = i;
                int ia = 0;
                int ib = 0;
                for (int d = rank - 1; d >= 0; d--) {
                    int c = rem % shape[d];
                    rem /= shape[d];
                    ia += c * sa[d];
                    ib += c * sb[d];
                }
                out[i] = op.apply(ad[ia], bd[ib]);
            }
            return new FloatTensor(shape, out);
        }
        // Walk the output as rows of the longest run both sides can index with a fixed step: size-1 axes
        // dropped and adjacent axes merged where neither side breaks the run. Same-shape operands (the
        // residual adds) become one row; the ane layout's (B, C, 1, S) tensors otherwise ran as rows of
        // S = 32 floats, each costing index arithmetic per row and C2's scalar post-loop.
        int[][] runs = coalesce(shape, sa, sb);
        int[] cs = runs[0];
        int[] ca = runs[1];
        int[] cb = runs[2];
        int crank = cs.length;
        int last = cs[crank - 1];
        int rows = last == 0 ? 0 : n / last;
        int aStep = ca[crank - 1];
        int bStep = cb[crank - 1];
        // a long row is cut into pieces so that threads can share it
        int pieces = Math.max(1, (last + PIECE - 1) / PIECE);
        int pieceLen = (last + pieces - 1) / pieces;
        Parallel.forRange(rows * pieces, Math.max(1, (1 << 15) / Math.max(1, pieceLen)), (from, to) -> {
            for (int t = from; t < to; t++) {
                int r = t / pieces;
                int j0 = (t % pieces) * pieceLen;
                int rem = r;
                int ia = 0;
                int ib = 0;
                for (int d = crank - 2; d >= 0; d--) {
                    int c = rem % cs[d];
                    rem /= cs[d];
                    ia += c * ca[d];
                    ib += c * cb[d];
                }
                row(op, ad, ia + j0 * aStep, aStep, bd, ib + j0 * bStep, bStep, out, r * last + j0,
                        Math.min(pieceLen, last - j0));
            }
        });
        return new FloatTensor(shape, out);
    }

    /** Floats per piece of a long row (see {@link #binary}). */
    private static final int PIECE = 8192;

    /**
     * The output shape and both sides' strides with size-1 axes dropped and each axis merged into the
     * next where, on both sides, stepping the outer axis is the same as running on along the inner one
     * ({@code stride[outer] == stride[inner] · size[inner]}, which includes both broadcast). At least
     * one axis remains. Returns {shape, strides of a, strides of b}.
     */
    static int[][] coalesce(int[] shape, int[] sa, int[] sb) {
        int[] cs = new int[shape.length + 1];
        int[] ca = new int[shape.length + 1];
        int[] cb = new int[shape.length + 1];
        int k = 0; // merged axes, innermost first
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                continue;
            }
            if (k > 0 && sa[d] == ca[k - 1] * cs[k - 1] && sb[d] == cb[k - 1] * cs[k - 1]) {
                cs[k - 1] *= shape[d];
                continue;
            }
            cs[k] = shape[d];
            ca[k] = sa[d];
            cb[k] = sb[d];
            k++;
        }
        if (k == 0) {
            return new int[][]{{1}, {0}, {0}};
        }
        int[][] out = new int[3][k];
        for (int i = 0; i < k; i++) {
            out[0][i] = cs[k - 1 - i];
            out[1][i] = ca[k - 1 - i];
            out[2][i] = cb[k - 1 - i];
        }
        return out;
    }

    private static void row(Op op, float[] a, int ia, int aStep, float[] b, int ib, int bStep, float[] out, int o, int n) {
        if (aStep == 1 && bStep == 1) {
            switch (op) {
                case ADD: for (int j = 0; j < n; j++) { out[o + j] = a[ia + j] + b[ib + j]; } break;
                case SUB: for (int j = 0; j < n; j++) { out[o + j] = a[ia + j] - b[ib + j]; } break;
                case MUL: for (int j = 0; j < n; j++) { out[o + j] = a[ia + j] * b[ib + j]; } break;
                default: for (int j = 0; j < n; j++) { out[o + j] = a[ia + j] / b[ib + j]; } break;
            }
        } else if (aStep == 1) {
            float bv = b[ib];
            switch (op) {
                case ADD: for (int j = 0; j < n; j++) { out[o + j] = a[ia + j] + bv; } break;
                case SUB: for (int j = 0; j < n; j++) { out[o + j] = a[ia + j] - bv; } break;
                case MUL: for (int j = 0; j < n; j++) { out[o + j] = a[ia + j] * bv; } break;
                default: for (int j = 0; j < n; j++) { out[o + j] = a[ia + j] / bv; } break;
            }
        } else if (bStep == 1) {
            float av = a[ia];
            for (int j = 0; j < n; j++) {
                out[o + j] = op.apply(av, b[ib + j]);
            }
        } else {
            float v = op.apply(a[ia], b[ib]);
            java.util.Arrays.fill(out, o, o + n, v);
        }
    }
}

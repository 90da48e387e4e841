package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;

/**
 * Binary element-wise ops with NumPy broadcasting (MIL {@code add}, {@code sub}, {@code mul},
 * {@code real_div}). The scalar version computes every element's source indices; the fast
 * version walks the output row by row (last axis) with one of four specialized inner loops
 * (each side either contiguous or a broadcast scalar) and splits rows over threads.
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
        int last = shape[rank - 1];
        int rows = last == 0 ? 0 : n / last;
        int aStep = sa[rank - 1];
        int bStep = sb[rank - 1];
        Parallel.forRange(rows, Math.max(1, (1 << 15) / Math.max(1, last)), (from, to) -> {
            for (int r = from; r < to; r++) {
                int rem = r;
                int ia = 0;
                int ib = 0;
                for (int d = rank - 2; d >= 0; d--) {
                    int c = rem % shape[d];
                    rem /= shape[d];
                    ia += c * sa[d];
                    ib += c * sb[d];
                }
                row(op, ad, ia, aStep, bd, ib, bStep, out, r * last, last);
            }
        });
        return new FloatTensor(shape, out);
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

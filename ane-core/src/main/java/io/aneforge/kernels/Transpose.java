package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;

/** MIL {@code transpose}: {@code out.shape[i] = x.shape[perm[i]]}, copying the data. */
public final class Transpose {

    private Transpose() {
    }

    public static FloatTensor transpose(FloatTensor x, int[] perm) {
        return transpose(x, perm, Kernels.isFast());
    }

    public static FloatTensor transpose(FloatTensor x, int[] perm, boolean fast) {
        int[] s = x.shape();
        int rank = s.length;
        boolean[] seen = new boolean[rank];
        if (perm.length != rank) {
            throw new IllegalArgumentException("transpose: perm " + Arrays.toString(perm) + " must have " + rank
                    + " entries for shape " + x.shapeString());
        }
        for (int p : perm) {
            if (p < 0 || p >= rank || seen[p]) {
                throw new IllegalArgumentException("transpose: perm " + Arrays.toString(perm)
                        + " is not a permutation of 0.." + (rank - 1));
            }
            seen[p] = true;
        }
        int[] outShape = new int[rank];
        int[] inStrides = Shapes.strides(s);
        int[] src = new int[rank]; // source stride of each output axis
        for (int i = 0; i < rank; i++) {
            outShape[i] = s[perm[i]];
            src[i] = inStrides[perm[i]];
        }
        float[] in = x.data();
        float[] out = new float[in.length];
        int n = in.length;
        if (!fast || rank == 0) {
            for (int i = 0; i < n; i++) {
                int rem = i;
                int off = 0;
                for (int d = rank - 1; d >= 0; d--) {
                    off += (rem % outShape[d]) * src[d];
                    rem /= outShape[d];
                }
                out[i] = in[off];
            }
            return new FloatTensor(outShape, out);
        }
        int last = outShape[rank - 1];
        int rows = last == 0 ? 0 : n / last;
        int step = src[rank - 1];
        Parallel.forRange(rows, Math.max(1, (1 << 15) / Math.max(1, last)), (from, to) -> {
            for (int r = from; r < to; r++) {
                int rem = r;
                int off = 0;
                for (int d = rank - 2; d >= 0; d--) {
                    off += (rem % outShape[d]) * src[d];
                    rem /= outShape[d];
                }
                int o = r * last;
                if (step == 1) {
                    System.arraycopy(in, off, out, o, last);
                } else {
                    for (int j = 0; j < last; j++) {
                        out[o + j] = in[off + j * step];
                    }
                }
            }
        });
        return new FloatTensor(outShape, out);
    }
}

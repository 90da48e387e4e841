package io.aneforge.kernels;

import java.util.Arrays;

/** Shape arithmetic shared by the kernels: NumPy broadcasting, strides, axis normalization. */
final class Shapes {

    private Shapes() {
    }

    static int size(int[] shape) {
        return Math.toIntExact(io.aneforge.tensor.FloatTensor.elementCount(shape));
    }

    /** Row-major strides. */
    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    /** NumPy broadcast of two shapes (aligned on the right). */
    static int[] broadcast(int[] a, int[] b, String what) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int d = 0; d < rank; d++) {
            int da = d - (rank - a.length) >= 0 ? a[d - (rank - a.length)] : 1;
            int db = d - (rank - b.length) >= 0 ? b[d - (rank - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(what + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast (axis " + d + " of the result: " + da + " vs " + db + ")");
            }
            out[d] = da == 1 ? db : da;
        }
        return out;
    }

    /** Strides of {@code shape} viewed in a broadcast result of rank {@code rank}: 0 on broadcast axes. */
    static int[] broadcastStrides(int[] shape, int[] outShape) {
        int rank = outShape.length;
        int[] own = strides(shape);
        int[] s = new int[rank];
        for (int d = 0; d < rank; d++) {
            int src = d - (rank - shape.length);
            s[d] = src >= 0 && shape[src] != 1 ? own[src] : 0;
        }
        return s;
    }

    static int axis(int axis, int rank, String what) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(what + ": axis " + axis + " is out of range for rank " + rank);
        }
        return a;
    }

    static int product(int[] shape, int from, int to) {
        int p = 1;
        for (int d = from; d < to; d++) {
            p *= shape[d];
        }
        return p;
    }
}

package io.aneforge.mil;

import java.util.Arrays;

/** Row-major index arithmetic and NumPy broadcasting, shared by type rules and evaluations. */
final class Shapes {
    private Shapes() {
    }

    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** NumPy broadcast of two shapes, or null when they are incompatible. */
    static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                return null;
            }
            out[i] = Math.max(da, db);
        }
        return out;
    }

    /**
     * For each flat index of {@code out}, the flat index into a tensor of shape {@code in}
     * broadcast to {@code out}.
     */
    static int[] broadcastIndex(int[] in, int[] out) {
        int n = size(out);
        int[] map = new int[n];
        int r = out.length;
        int[] inStrides = strides(in);
        int[] eff = new int[r];
        for (int i = 0; i < r; i++) {
            int k = i - (r - in.length);
            eff[i] = k < 0 || in[k] == 1 ? 0 : inStrides[k];
        }
        int[] idx = new int[r];
        for (int f = 0; f < n; f++) {
            int off = 0;
            for (int i = 0; i < r; i++) {
                off += idx[i] * eff[i];
            }
            map[f] = off;
            for (int i = r - 1; i >= 0; i--) {
                if (++idx[i] < out[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        return map;
    }

    static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return idx;
    }

    static int[] filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    static String str(int[] s) {
        return Arrays.toString(s);
    }
}

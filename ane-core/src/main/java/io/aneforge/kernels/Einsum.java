package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;

/**
 * The two einsum patterns MIL accepts (COREML_FORMAT.md §4), up to renaming letters:
 * rank 4 {@code nchw,nwhu->nchu} — A {@code [B, C, H, W]}, B' {@code [B, W, H, U]} →
 * {@code [B, C, H, U]}, i.e. for every (b, h) a matmul {@code [C, W]·[W, U]} — and rank 3
 * {@code chw,whr->chr} (the same with B = 1). B and H broadcast when either side has 1.
 */
public final class Einsum {

    private Einsum() {
    }

    /** Checks that {@code equation} is one of the two accepted patterns and evaluates it. */
    public static FloatTensor evaluate(String equation, FloatTensor a, FloatTensor b) {
        String eq = equation.replace(" ", "");
        String[] io = eq.split("->");
        String[] ops = io.length == 2 ? io[0].split(",") : new String[0];
        if (ops.length != 2 || !matchesPattern(ops[0], ops[1], io[1])) {
            throw new IllegalArgumentException("einsum: equation '" + equation + "' is not supported; MIL accepts only "
                    + "'nchw,nwhu->nchu' (rank 4) and 'chw,whr->chr' (rank 3) up to renaming letters "
                    + "(contract the last axis of the first operand with axis 1 of the second)");
        }
        if (ops[0].length() == 3) {
            if (a.rank() != 3 || b.rank() != 3) {
                throw new IllegalArgumentException("einsum '" + equation + "': operands must be rank 3, got "
                        + a.shapeString() + " and " + b.shapeString());
            }
            FloatTensor r = nchwNwhu(new FloatTensor(prepend1(a.shape()), a.data()),
                    new FloatTensor(prepend1(b.shape()), b.data()));
            int[] s = r.shape();
            return new FloatTensor(new int[] {s[1], s[2], s[3]}, r.data());
        }
        return nchwNwhu(a, b);
    }

    private static int[] prepend1(int[] s) {
        int[] out = new int[s.length + 1];
        out[0] = 1;
        System.arraycopy(s, 0, out, 1, s.length);
        return out;
    }

    private static boolean matchesPattern(String x, String y, String out) {
        if (x.length() == 4 && y.length() == 4 && out.length() == 4) {
            char n = x.charAt(0);
            char c = x.charAt(1);
            char h = x.charAt(2);
            char w = x.charAt(3);
            char u = y.charAt(3);
            return distinct(n, c, h, w, u) && y.equals("" + n + w + h + u) && out.equals("" + n + c + h + u);
        }
        if (x.length() == 3 && y.length() == 3 && out.length() == 3) {
            char c = x.charAt(0);
            char h = x.charAt(1);
            char w = x.charAt(2);
            char r = y.charAt(2);
            return distinct(c, h, w, r) && y.equals("" + w + h + r) && out.equals("" + c + h + r);
        }
        return false;
    }

    private static boolean distinct(char... cs) {
        for (int i = 0; i < cs.length; i++) {
            if (!Character.isLetter(cs[i])) {
                return false;
            }
            for (int j = i + 1; j < cs.length; j++) {
                if (cs[i] == cs[j]) {
                    return false;
                }
            }
        }
        return true;
    }

    /** {@code out[n,c,h,u] = Σ_w a[n,c,h,w] · b[n,w,h,u]}. */
    public static FloatTensor nchwNwhu(FloatTensor a, FloatTensor b) {
        return nchwNwhu(a, b, Kernels.isFast());
    }

    public static FloatTensor nchwNwhu(FloatTensor a, FloatTensor b, boolean fast) {
        int[] as = a.shape();
        int[] bs = b.shape();
        if (as.length != 4 || bs.length != 4 || as[3] != bs[1]
                || (as[0] != bs[0] && as[0] != 1 && bs[0] != 1) || (as[2] != bs[2] && as[2] != 1 && bs[2] != 1)) {
            throw new IllegalArgumentException("einsum nchw,nwhu->nchu: operands " + a.shapeString() + " and "
                    + b.shapeString() + " do not fit ([B, C, H, W] and [B, W, H, U], B and H equal or 1)");
        }
        int nB = Math.max(as[0], bs[0]);
        int c = as[1];
        int nH = Math.max(as[2], bs[2]);
        int w = as[3];
        int u = bs[3];
        float[] out = new float[nB * c * nH * u];
        float[] ad = a.data();
        float[] bd = b.data();
        int pairs = nB * nH;
        // Matrix (n, h): A rows a[n, :, h, :] with stride H·W, B rows b[n, :, h, :] with stride H·U.
        Parallel.RangeBody body = (from, to) -> {
            for (int t = from; t < to; t++) {
                int n = t / nH;
                int h = t % nH;
                int aOff = ((as[0] == 1 ? 0 : n) * c * as[2] + (as[2] == 1 ? 0 : h)) * w;
                int bOff = ((bs[0] == 1 ? 0 : n) * w * bs[2] + (bs[2] == 1 ? 0 : h)) * u;
                int cOff = (n * c * nH + h) * u;
                if (fast) {
                    Gemm.fast(c, u, w, ad, aOff, as[2] * w, false, bd, bOff, bs[2] * u, false, out, cOff, nH * u, pairs == 1);
                } else {
                    Gemm.scalar(c, u, w, ad, aOff, as[2] * w, false, bd, bOff, bs[2] * u, false, out, cOff, nH * u);
                }
            }
        };
        if (fast && pairs > 1) {
            Parallel.forRange(pairs, 1, body);
        } else {
            body.run(0, pairs);
        }
        return new FloatTensor(new int[] {nB, c, nH, u}, out);
    }
}

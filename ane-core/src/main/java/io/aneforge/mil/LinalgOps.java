package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Contractions: matmul, linear, conv, einsum. Evaluations are plain loops that define the meaning; fast kernels live elsewhere. */
final class LinalgOps {
    private LinalgOps() {
    }

    static List<OpDef> all() {
        return List.of(matmul(), linear(), conv(), einsum());
    }

    static OpDef matmul() {
        return OpDef.of("matmul", Target.IOS15,
                List.of(Param.tensor("x", Param.FLOATS).ranks(2, 5), Param.tensor("y", Param.FLOATS).sameAs("x").ranks(2, 5),
                        Param.constant("transpose_x", Param.BOOL).rank(0).optional(Constant.bool(false)),
                        Param.constant("transpose_y", Param.BOOL).rank(0).optional(Constant.bool(false))),
                c -> {
                    Geometry g = matmulGeometry(c);
                    int[] out = Arrays.copyOf(g.batch, g.batch.length + 2);
                    out[g.batch.length] = g.m;
                    out[g.batch.length + 1] = g.n;
                    return List.of(new TensorType(c.type("x").dtype(), out));
                },
                c -> {
                    Geometry g = matmulGeometry(c);
                    FloatTensor x = c.tensor("x");
                    FloatTensor y = c.tensor("y");
                    boolean tx = c.boolValue("transpose_x");
                    boolean ty = c.boolValue("transpose_y");
                    int[] xb = Arrays.copyOf(x.shape(), x.rank() - 2);
                    int[] yb = Arrays.copyOf(y.shape(), y.rank() - 2);
                    int[] bx = Shapes.broadcastIndex(xb, g.batch);
                    int[] by = Shapes.broadcastIndex(yb, g.batch);
                    int m = g.m, n = g.n, k = g.k;
                    int batches = Shapes.size(g.batch);
                    float[] out = new float[batches * m * n];
                    for (int b = 0; b < batches; b++) {
                        int xo = bx[b] * m * k;
                        int yo = by[b] * k * n;
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                double acc = 0;
                                for (int p = 0; p < k; p++) {
                                    float xv = x.data()[xo + (tx ? p * m + i : i * k + p)];
                                    float yv = y.data()[yo + (ty ? j * k + p : p * n + j)];
                                    acc += (double) xv * yv;
                                }
                                out[b * m * n + i * n + j] = (float) acc;
                            }
                        }
                    }
                    return List.of(new FloatTensor(c.outputType(0).shape(), out));
                });
    }

    private record Geometry(int[] batch, int m, int k, int n) {
    }

    private static Geometry matmulGeometry(OpContext c) {
        int[] x = c.shape("x");
        int[] y = c.shape("y");
        boolean tx = c.boolValue("transpose_x");
        boolean ty = c.boolValue("transpose_y");
        int m = tx ? x[x.length - 1] : x[x.length - 2];
        int kx = tx ? x[x.length - 2] : x[x.length - 1];
        int ky = ty ? y[y.length - 1] : y[y.length - 2];
        int n = ty ? y[y.length - 2] : y[y.length - 1];
        if (kx != ky) {
            throw c.fail("y", "inner dimensions differ: x " + OpContext.str(x) + (tx ? " (transposed)" : "") + " contracts "
                    + kx + " but y " + OpContext.str(y) + (ty ? " (transposed)" : "") + " offers " + ky);
        }
        int[] batch = Shapes.broadcast(Arrays.copyOf(x, x.length - 2), Arrays.copyOf(y, y.length - 2));
        if (batch == null) {
            throw c.fail("y", "batch dimensions of x " + OpContext.str(x) + " and y " + OpContext.str(y) + " do not broadcast");
        }
        return new Geometry(batch, m, kx, n);
    }

    static OpDef linear() {
        return OpDef.of("linear", Target.IOS15,
                List.of(Param.tensor("x", Param.FLOATS).ranks(1, 5),
                        Param.constant("weight", Param.FLOATS).sameAs("x").rank(2),
                        Param.constant("bias", Param.FLOATS).sameAs("x").rank(1)
                                .optional(c -> Constant.floats(c.type("x").dtype(), new float[c.shape("weight")[0]], c.shape("weight")[0]))),
                c -> {
                    int[] x = c.shape("x");
                    int[] w = c.shape("weight");
                    if (w[1] != x[x.length - 1]) {
                        throw c.fail("weight", "shape " + OpContext.str(w) + " must be [out, in] with in = " + x[x.length - 1]
                                + " (last dim of x " + OpContext.str(x) + ")");
                    }
                    if (c.has("bias") && c.shape("bias")[0] != w[0]) {
                        throw c.fail("bias", "shape " + OpContext.str(c.shape("bias")) + " must be [" + w[0] + "] (weight rows)");
                    }
                    int[] out = x.clone();
                    out[out.length - 1] = w[0];
                    return List.of(new TensorType(c.type("x").dtype(), out));
                },
                c -> {
                    FloatTensor x = c.tensor("x");
                    FloatTensor w = c.tensor("weight");
                    FloatTensor b = c.has("bias") ? c.tensor("bias") : null;
                    int in = w.shape()[1];
                    int outF = w.shape()[0];
                    int rows = x.size() / in;
                    float[] out = new float[rows * outF];
                    for (int r = 0; r < rows; r++) {
                        for (int o = 0; o < outF; o++) {
                            double acc = b == null ? 0 : b.data()[o];
                            for (int i = 0; i < in; i++) {
                                acc += (double) x.data()[r * in + i] * w.data()[o * in + i];
                            }
                            out[r * outF + o] = (float) acc;
                        }
                    }
                    return List.of(new FloatTensor(c.outputType(0).shape(), out));
                });
    }

    static final List<String> PAD_TYPES = List.of("valid", "same", "same_lower", "custom");

    static OpDef conv() {
        return OpDef.of("conv", Target.IOS15,
                List.of(Param.tensor("x", Param.FLOATS).ranks(3, 4),
                        Param.tensor("weight", Param.FLOATS).sameAs("x").ranks(3, 4),
                        Param.constant("bias", Param.FLOATS).sameAs("x").rank(1)
                                .optional(c -> Constant.floats(c.type("x").dtype(), new float[c.shape("weight")[0]], c.shape("weight")[0])),
                        Param.constant("strides", Param.INT32).rank(1).optional(c -> Constant.int32s(Shapes.filled(c.rank("x") - 2, 1))),
                        Param.constant("pad_type", Param.STRING).rank(0).optional(Constant.string("valid")),
                        Param.constant("pad", Param.INT32).rank(1).optional(c -> Constant.int32s(new int[2 * (c.rank("x") - 2)])),
                        Param.constant("dilations", Param.INT32).rank(1).optional(c -> Constant.int32s(Shapes.filled(c.rank("x") - 2, 1))),
                        Param.constant("groups", Param.INT32).rank(0).optional(Constant.int32Scalar(1))),
                c -> List.of(new TensorType(c.type("x").dtype(), convGeometry(c).outShape)),
                LinalgOps::evalConv);
    }


    private record ConvGeometry(int[] outShape, int[] padBegin, int[] strides, int[] dilations, int groups) {
    }

    private static ConvGeometry convGeometry(OpContext c) {
        int[] x = c.shape("x");
        int[] w = c.shape("weight");
        int sr = x.length - 2;
        if (w.length != x.length) {
            throw c.fail("weight", "rank " + w.length + " must equal the rank of x (" + x.length + "): [Cout, Cin/groups, k...]");
        }
        int groups = c.intValue("groups");
        if (groups < 1 || x[1] % groups != 0 || w[0] % groups != 0) {
            throw c.fail("groups", groups + " must be >= 1 and divide Cin (" + x[1] + ") and Cout (" + w[0] + ")");
        }
        if (w[1] * groups != x[1]) {
            throw c.fail("weight", "shape " + OpContext.str(w) + " needs Cin/groups = " + (x[1] / groups) + " on axis 1 for x "
                    + OpContext.str(x) + " and groups " + groups);
        }
        if (c.has("bias") && c.shape("bias")[0] != w[0]) {
            throw c.fail("bias", "shape " + OpContext.str(c.shape("bias")) + " must be [" + w[0] + "] (Cout)");
        }
        int[] strides = c.ints("strides");
        int[] dil = c.ints("dilations");
        int[] pad = c.ints("pad");
        if (strides.length != sr || dil.length != sr || pad.length != 2 * sr) {
            throw c.fail("strides", "strides and dilations need " + sr + " values and pad " + (2 * sr) + " for " + sr
                    + " spatial dims; got strides " + OpContext.str(strides) + ", dilations " + OpContext.str(dil) + ", pad " + OpContext.str(pad));
        }
        String padType = c.string("pad_type");
        if (!PAD_TYPES.contains(padType)) {
            throw c.fail("pad_type", "'" + padType + "' is not one of " + PAD_TYPES);
        }
        int[] out = new int[x.length];
        out[0] = x[0];
        out[1] = w[0];
        int[] padBegin = new int[sr];
        for (int i = 0; i < sr; i++) {
            int in = x[i + 2];
            int k = (w[i + 2] - 1) * dil[i] + 1;
            int o;
            switch (padType) {
                case "custom" -> {
                    padBegin[i] = pad[2 * i];
                    o = (in + pad[2 * i] + pad[2 * i + 1] - k) / strides[i] + 1;
                }
                case "valid" -> o = (in - k) / strides[i] + 1;
                default -> {
                    o = (in + strides[i] - 1) / strides[i];
                    int total = Math.max((o - 1) * strides[i] + k - in, 0);
                    padBegin[i] = padType.equals("same") ? total / 2 : (total + 1) / 2;
                }
            }
            if (o < 1 || (padType.equals("valid") && in < k)) {
                throw c.fail("weight", "kernel " + OpContext.str(w) + " with dilations " + OpContext.str(dil)
                        + " does not fit the input " + OpContext.str(x) + " with pad_type " + padType);
            }
            out[i + 2] = o;
        }
        return new ConvGeometry(out, padBegin, strides, dil, groups);
    }

    /** Direct convolution; rank-3 (1-D) input is treated as 2-D with height 1. */
    private static List<FloatTensor> evalConv(EvalContext c) {
        ConvGeometry g = convGeometry(c);
        FloatTensor x = c.tensor("x");
        FloatTensor w = c.tensor("weight");
        FloatTensor b = c.has("bias") ? c.tensor("bias") : null;
        boolean oneD = x.rank() == 3;
        int n = x.shape()[0], cin = x.shape()[1];
        int h = oneD ? 1 : x.shape()[2], wd = x.shape()[x.rank() - 1];
        int cout = w.shape()[0], cg = w.shape()[1];
        int kh = oneD ? 1 : w.shape()[2], kw = w.shape()[w.rank() - 1];
        int[] os = g.outShape;
        int oh = oneD ? 1 : os[2], ow = os[os.length - 1];
        int sh = oneD ? 1 : g.strides[0], sw = g.strides[g.strides.length - 1];
        int dh = oneD ? 1 : g.dilations[0], dw = g.dilations[g.dilations.length - 1];
        int ph = oneD ? 0 : g.padBegin[0], pw = g.padBegin[g.padBegin.length - 1];
        int coutPerGroup = cout / g.groups;
        float[] out = new float[n * cout * oh * ow];
        for (int bi = 0; bi < n; bi++) {
            for (int oc = 0; oc < cout; oc++) {
                int grp = oc / coutPerGroup;
                for (int y = 0; y < oh; y++) {
                    for (int xx = 0; xx < ow; xx++) {
                        double acc = b == null ? 0 : b.data()[oc];
                        for (int ic = 0; ic < cg; ic++) {
                            int icx = grp * cg + ic;
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = y * sh - ph + ky * dh;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = xx * sw - pw + kx * dw;
                                    if (ix < 0 || ix >= wd) {
                                        continue;
                                    }
                                    acc += (double) x.data()[((bi * cin + icx) * h + iy) * wd + ix]
                                            * w.data()[((oc * cg + ic) * kh + ky) * kw + kx];
                                }
                            }
                        }
                        out[((bi * cout + oc) * oh + y) * ow + xx] = (float) acc;
                    }
                }
            }
        }
        return List.of(new FloatTensor(os, out));
    }

    static OpDef einsum() {
        return OpDef.of("einsum", Target.IOS15,
                List.of(Param.tensor("values", Param.FLOATS).ranks(3, 4).asVariadic(),
                        Param.constant("equation", Param.STRING).rank(0)),
                c -> {
                    int[][] s = einsumShapes(c);
                    return List.of(new TensorType(c.type("values").dtype(), s[3]));
                },
                c -> {
                    int[][] s = einsumShapes(c);
                    List<FloatTensor> v = c.tensors("values");
                    int[] a = s[0], b = s[1], o = s[2];
                    float[] xa = v.get(0).data(), xb = v.get(1).data();
                    int B = o[0], C = o[1], H = o[2], U = o[3], W = a[3];
                    float[] out = new float[B * C * H * U];
                    for (int bi = 0; bi < B; bi++) {
                        int ba = a[0] == 1 ? 0 : bi, bb = b[0] == 1 ? 0 : bi;
                        for (int ci = 0; ci < C; ci++) {
                            for (int hi = 0; hi < H; hi++) {
                                int ha = a[2] == 1 ? 0 : hi, hb = b[2] == 1 ? 0 : hi;
                                for (int ui = 0; ui < U; ui++) {
                                    double acc = 0;
                                    for (int wi = 0; wi < W; wi++) {
                                        acc += (double) xa[((ba * C + ci) * a[2] + ha) * W + wi]
                                                * xb[((bb * W + wi) * b[2] + hb) * U + ui];
                                    }
                                    out[((bi * C + ci) * H + hi) * U + ui] = (float) acc;
                                }
                            }
                        }
                    }
                    return List.of(new FloatTensor(c.outputType(0).shape(), out));
                });
    }

    /**
     * Validates the equation (only {@code nchw,nwhu->nchu} at rank 4 and {@code chw,whr->chr}
     * at rank 3, up to renaming letters) and returns the operand and output shapes, all
     * lifted to rank 4 ([B, C, H, W1], [B, W1, H, W2], [B, C, H, W2]).
     */
    static int[][] einsumShapes(OpContext c) {
        List<Arg> vals = c.args("values");
        if (vals.size() != 2) {
            throw c.fail("values", "einsum takes exactly two operands, got " + vals.size());
        }
        String eq = c.string("equation").replace(" ", "");
        int[] a = vals.get(0).type().shape();
        int[] b = vals.get(1).type().shape();
        if (a.length != b.length) {
            throw c.fail("values", "operands must have the same rank, got " + OpContext.str(a) + " and " + OpContext.str(b));
        }
        String[] io = eq.split("->");
        String[] ops = io.length == 2 ? io[0].split(",") : new String[0];
        int r = a.length;
        boolean ok = ops.length == 2 && ops[0].length() == r && ops[1].length() == r && io[1].length() == r
                && distinct(ops[0] + ops[1].charAt(r - 1));
        if (ok) {
            String p = ops[0], q = ops[1], o = io[1];
            if (r == 4) {
                ok = q.charAt(0) == p.charAt(0) && q.charAt(1) == p.charAt(3) && q.charAt(2) == p.charAt(2)
                        && o.equals("" + p.charAt(0) + p.charAt(1) + p.charAt(2) + q.charAt(3));
            } else {
                ok = q.charAt(0) == p.charAt(2) && q.charAt(1) == p.charAt(1)
                        && o.equals("" + p.charAt(0) + p.charAt(1) + q.charAt(2));
            }
        }
        if (!ok) {
            throw c.fail("equation", "'" + eq + "' is not supported: Core ML accepts only nchw,nwhu->nchu (rank 4) and chw,whr->chr "
                    + "(rank 3) up to renaming letters; reorder the operands (e.g. write bkhc,bchq->bkhq with k first)");
        }
        int[] a4 = r == 4 ? a : new int[]{1, a[0], a[1], a[2]};
        int[] b4 = r == 4 ? b : new int[]{1, b[0], b[1], b[2]};
        if (a4[3] != b4[1]) {
            throw c.fail("values", "contracted dims differ: first operand " + OpContext.str(a) + " has " + a4[3]
                    + " on its last axis, second " + OpContext.str(b) + " has " + b4[1] + " on its axis " + (r == 4 ? 1 : 0));
        }
        if ((a4[0] != b4[0] && a4[0] != 1 && b4[0] != 1) || (a4[2] != b4[2] && a4[2] != 1 && b4[2] != 1)) {
            throw c.fail("values", "batch/height dims of " + OpContext.str(a) + " and " + OpContext.str(b) + " must match or be 1");
        }
        int[] o4 = {Math.max(a4[0], b4[0]), a4[1], Math.max(a4[2], b4[2]), b4[3]};
        int[] o = r == 4 ? o4 : new int[]{o4[1], o4[2], o4[3]};
        return new int[][]{a4, b4, o4, o};
    }

    private static boolean distinct(String s) {
        List<Character> seen = new ArrayList<>();
        for (char ch : s.toCharArray()) {
            if (!Character.isLetter(ch) || seen.contains(ch)) {
                return false;
            }
            seen.add(ch);
        }
        return true;
    }
}

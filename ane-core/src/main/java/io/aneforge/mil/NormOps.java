package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;
import java.util.List;

/** Normalizations and reductions: layer_norm, reduce_mean. */
final class NormOps {
    private NormOps() {
    }

    static List<OpDef> all() {
        return List.of(layerNorm(), reduceMean());
    }

    static Constant allAxes(OpContext c) {
        return Constant.int32s(java.util.stream.IntStream.range(0, c.rank("x")).toArray());
    }

    /** Sorted, normalized axes; fails on duplicates. */
    static int[] axes(OpContext c, String param, int rank) {
        int[] raw = c.ints(param);
        int[] a = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            a[i] = c.axis(param, raw[i], rank);
        }
        Arrays.sort(a);
        for (int i = 1; i < a.length; i++) {
            if (a[i] == a[i - 1]) {
                throw c.fail(param, OpContext.str(raw) + " repeats an axis");
            }
        }
        return a;
    }

    static int[] normalizedShape(OpContext c) {
        int[] x = c.shape("x");
        return Arrays.stream(axes(c, "axes", x.length)).map(a -> x[a]).toArray();
    }

    static OpDef layerNorm() {
        return OpDef.of("layer_norm", Target.IOS15,
                List.of(Param.tensor("x", Param.FLOATS).ranks(1, 5),
                        Param.constant("axes", Param.INT32).rank(1).optional(NormOps::allAxes),
                        Param.constant("gamma", Param.FLOATS).sameAs("x").optional(c -> {
                            int[] s = normalizedShape(c);
                            float[] ones = new float[Shapes.size(s)];
                            Arrays.fill(ones, 1f);
                            return Constant.floats(c.type("x").dtype(), ones, s);
                        }),
                        Param.constant("beta", Param.FLOATS).sameAs("x").optional(c -> {
                            int[] s = normalizedShape(c);
                            return Constant.floats(c.type("x").dtype(), new float[Shapes.size(s)], s);
                        }),
                        Param.constant("epsilon", Param.FLOATS).sameAs("x").rank(0)
                                .optional(c -> Constant.floatScalar(c.type("x").dtype(), 1e-5f))),
                c -> {
                    int[] ns = normalizedShape(c);
                    for (String p : List.of("gamma", "beta")) {
                        if (c.has(p) && !Arrays.equals(c.shape(p), ns)) {
                            throw c.fail(p, "shape " + OpContext.str(c.shape(p)) + " must equal the normalized shape " + OpContext.str(ns)
                                    + " (x " + OpContext.str(c.shape("x")) + " at axes " + OpContext.str(c.ints("axes")) + ")");
                        }
                    }
                    return List.of(c.type("x"));
                },
                c -> {
                    // y = (x - mean) / sqrt(var + eps) * gamma + beta over the given axes (biased variance)
                    FloatTensor x = c.tensor("x");
                    int[] s = x.shape();
                    int[] axes = axes(c, "axes", s.length);
                    boolean[] red = new boolean[s.length];
                    for (int a : axes) {
                        red[a] = true;
                    }
                    int[] keep = s.clone();
                    int[] redShape = new int[axes.length];
                    for (int i = 0; i < axes.length; i++) {
                        keep[axes[i]] = 1;
                        redShape[i] = s[axes[i]];
                    }
                    int[] xs = Shapes.strides(s);
                    int groups = Shapes.size(keep);
                    int m = Shapes.size(redShape);
                    float[] gamma = c.has("gamma") ? c.tensor("gamma").data() : null;
                    float[] beta = c.has("beta") ? c.tensor("beta").data() : null;
                    double eps = c.floatValue("epsilon");
                    float[] out = new float[x.size()];
                    int[] offs = new int[m];
                    for (int j = 0; j < m; j++) {
                        int[] ri = Shapes.unravel(j, redShape);
                        for (int i = 0; i < axes.length; i++) {
                            offs[j] += ri[i] * xs[axes[i]];
                        }
                    }
                    for (int g = 0; g < groups; g++) {
                        int[] gi = Shapes.unravel(g, keep);
                        int base = 0;
                        for (int i = 0; i < s.length; i++) {
                            base += gi[i] * xs[i];
                        }
                        double mean = 0;
                        for (int j = 0; j < m; j++) {
                            mean += x.data()[base + offs[j]];
                        }
                        mean /= m;
                        double var = 0;
                        for (int j = 0; j < m; j++) {
                            double d = x.data()[base + offs[j]] - mean;
                            var += d * d;
                        }
                        var /= m;
                        double inv = 1 / Math.sqrt(var + eps);
                        for (int j = 0; j < m; j++) {
                            double v = (x.data()[base + offs[j]] - mean) * inv;
                            if (gamma != null) {
                                v = v * gamma[j];
                            }
                            if (beta != null) {
                                v += beta[j];
                            }
                            out[base + offs[j]] = (float) v;
                        }
                    }
                    return List.of(new FloatTensor(s, out));
                });
    }

    static OpDef reduceMean() {
        return OpDef.of("reduce_mean", Target.IOS15,
                List.of(Param.tensor("x", Param.NUMERIC).ranks(1, 5),
                        Param.constant("axes", Param.INT32).rank(1).optional(NormOps::allAxes),
                        Param.constant("keep_dims", Param.BOOL).rank(0).optional(Constant.bool(false))),
                c -> List.of(new TensorType(c.type("x").dtype(), reducedShape(c))),
                c -> {
                    FloatTensor x = c.tensor("x");
                    int[] s = x.shape();
                    int[] axes = axes(c, "axes", s.length);
                    int[] keep = s.clone();
                    for (int a : axes) {
                        keep[a] = 1;
                    }
                    int[] map = Shapes.broadcastIndex(keep, s); // x index -> reduced index
                    double[] acc = new double[Shapes.size(keep)];
                    for (int f = 0; f < x.size(); f++) {
                        acc[map[f]] += x.data()[f];
                    }
                    int m = x.size() / acc.length;
                    float[] out = new float[acc.length];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = (float) (acc[i] / m);
                    }
                    return List.of(new FloatTensor(c.outputType(0).shape(), out));
                });
    }

    private static int[] reducedShape(OpContext c) {
        int[] x = c.shape("x");
        int[] axes = axes(c, "axes", x.length);
        boolean keepDims = c.boolValue("keep_dims");
        boolean[] red = new boolean[x.length];
        for (int a : axes) {
            red[a] = true;
        }
        return java.util.stream.IntStream.range(0, x.length).filter(i -> keepDims || !red[i]).map(i -> red[i] ? 1 : x[i]).toArray();
    }
}

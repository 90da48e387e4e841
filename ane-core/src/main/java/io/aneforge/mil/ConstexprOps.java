package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.EnumSet;
import java.util.List;

/**
 * Weight decompression evaluated when the model loads: {@code constexpr_affine_dequantize}
 * (iOS 16; parameters are op attributes) and {@code constexpr_blockwise_shift_scale}
 * (iOS 18; parameters are inputs bound to values).
 */
final class ConstexprOps {
    private ConstexprOps() {
    }

    static List<OpDef> all() {
        return List.of(affineDequantize(), blockwiseShiftScale());
    }

    static OpDef affineDequantize() {
        return new OpDef("constexpr_affine_dequantize", Target.IOS16, List.of(),
                List.of(Param.constant("quantized_data", EnumSet.of(DType.INT8, DType.UINT8)).ranks(1, 5),
                        Param.constant("zero_point", EnumSet.of(DType.INT8, DType.UINT8)).sameAs("quantized_data").ranks(0, 1),
                        Param.constant("scale", Param.FLOATS).ranks(0, 1),
                        Param.constant("axis", Param.INT32).rank(0)),
                c -> {
                    int[] q = c.shape("quantized_data");
                    int axis = c.axis("axis", c.intValue("axis"), q.length);
                    for (String p : List.of("zero_point", "scale")) {
                        long n = c.type(p).elementCount();
                        if (c.rank(p) == 1 && n != q[axis] && n != 1) {
                            throw c.fail(p, "has " + n + " values but axis " + axis + " of quantized_data " + OpContext.str(q)
                                    + " has size " + q[axis] + " (per-channel) - use one value per channel or a scalar");
                        }
                    }
                    return List.of(new TensorType(c.type("scale").dtype(), q));
                },
                c -> {
                    int[] s = c.constant("quantized_data").type().shape();
                    float[] out = new float[Shapes.size(s)];
                    affineRows(c).decode(0, out, 0, out.length);
                    return List.of(new FloatTensor(s, out));
                });
    }

    /** {@code constexpr_affine_dequantize} element by element: {@code out = scale[ch] * (q - zero_point[ch])}, ch = index along axis. */
    static WeightRows affineRows(OpContext c) {
        Constant q = c.constant("quantized_data");
        Constant zp = c.constant("zero_point");
        Constant sc = c.constant("scale");
        int[] s = q.type().shape();
        int axis = c.axis("axis", c.intValue("axis"), s.length);
        int inner = Shapes.strides(s)[axis];
        return (from, dst, off, n) -> {
            for (int i = from; i < from + n; i++) {
                int ch = (i / inner) % s[axis];
                float scale = sc.floatAt(sc.elementCount() == 1 ? 0 : ch);
                float zero = zp.floatAt(zp.elementCount() == 1 ? 0 : ch);
                dst[off + i - from] = scale * (q.floatAt(i) - zero);
            }
        };
    }

    static OpDef blockwiseShiftScale() {
        EnumSet<DType> data = EnumSet.of(DType.INT4, DType.UINT4, DType.INT8, DType.UINT8);
        return OpDef.of("constexpr_blockwise_shift_scale", Target.IOS18,
                List.of(Param.constant("data", data).ranks(1, 5),
                        Param.constant("scale", Param.FLOATS).ranks(1, 5),
                        Param.constant("offset", EnumSet.of(DType.INT4, DType.UINT4, DType.INT8, DType.UINT8, DType.FP16, DType.FP32))
                                .ranks(1, 5).optionalUnbound()),
                c -> {
                    int[] d = c.shape("data");
                    int[] s = c.shape("scale");
                    if (s.length != d.length) {
                        throw c.fail("scale", "rank " + s.length + " must equal the rank of data " + OpContext.str(d));
                    }
                    for (int i = 0; i < d.length; i++) {
                        if (d[i] % s[i] != 0) {
                            throw c.fail("scale", "shape " + OpContext.str(s) + " does not tile data " + OpContext.str(d) + " on axis " + i
                                    + " (block size = data dim / scale dim must be an integer)");
                        }
                    }
                    if (c.has("offset")) {
                        if (!java.util.Arrays.equals(c.shape("offset"), s)) {
                            throw c.fail("offset", "shape " + OpContext.str(c.shape("offset")) + " must equal the scale shape " + OpContext.str(s));
                        }
                        DType od = c.type("offset").dtype();
                        if (od != c.type("data").dtype() && od != c.type("scale").dtype()) {
                            throw c.fail("offset", "dtype " + od.milName() + " must equal the dtype of data or of scale");
                        }
                    }
                    return List.of(new TensorType(c.type("scale").dtype(), d));
                },
                c -> {
                    int[] d = c.constant("data").type().shape();
                    float[] out = new float[Shapes.size(d)];
                    blockwiseRows(c).decode(0, out, 0, out.length);
                    return List.of(new FloatTensor(d, out));
                });
    }

    /**
     * {@code constexpr_blockwise_shift_scale} a run of rows at a time: {@code out[i] = scale[i / b] * (data[i] - offset[i / b])},
     * b = data.shape / scale.shape per axis. A "row" here is the last axis that is not a trailing size-1 axis.
     */
    static WeightRows blockwiseRows(OpContext c) {
        Constant data = c.constant("data");
        Constant scale = c.constant("scale");
        Constant offset = c.has("offset") ? c.constant("offset") : null;
        int[] d = data.type().shape();
        int[] s = scale.type().shape();
        int[] ss = Shapes.strides(s);
        // Scales and offsets decoded once; rows of the last axis walked in order with an index
        // counter for the leading axes (an unravel per element made loading an int8 MiniLM take
        // 0.7 s of CPU). Same expression per element, so the same floats.
        float[] sc = scale.toFloats();
        float[] off = offset == null ? null : offset.toFloats();
        // Trailing size-1 axes (the (C_out, C_in, 1, 1) weights of the ane layout's 1x1 convs) are
        // dropped: a size-1 axis moves no index, and with them every "row" was one element long.
        int r = d.length;
        while (r > 1 && d[r - 1] == 1) {
            r--;
        }
        int rank = r;
        int last = d[rank - 1];
        int lastBlock = last / s[rank - 1];
        int lastStride = ss[rank - 1];
        return new WeightRows() {
            @Override
            public int unit() {
                return last;
            }

            @Override
            public void decode(int from, float[] dst, int at, int n) {
                int[] idx = new int[rank];
                for (int k = rank - 2, row = from / last; k >= 0; k--) {
                    idx[k] = row % d[k];
                    row /= d[k];
                }
                for (int o = 0; o < n; o += last) {
                    int base = 0;
                    for (int k = 0; k < rank - 1; k++) {
                        base += idx[k] / (d[k] / s[k]) * ss[k];
                    }
                    // The row's data decoded in place first (floatAt per element was most of the load time).
                    data.floatsInto(from + o, dst, at + o, last);
                    for (int j0 = 0; j0 < last; j0 += lastBlock) {
                        int si = base + j0 / lastBlock * lastStride;
                        float scale0 = sc[si];
                        float offset0 = off == null ? 0 : off[si];
                        for (int j = at + o + j0; j < at + o + j0 + lastBlock; j++) {
                            dst[j] = scale0 * (dst[j] - offset0);
                        }
                    }
                    for (int k = rank - 2; k >= 0; k--) {
                        if (++idx[k] < d[k]) {
                            break;
                        }
                        idx[k] = 0;
                    }
                }
            }
        };
    }
}

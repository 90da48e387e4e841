package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Data movement: const, reshape, transpose, split, concat, gather, expand_dims, squeeze, slice_by_index, band_part. */
final class ShapeOps {
    private ShapeOps() {
    }

    static List<OpDef> all() {
        return List.of(constOp(), reshape(), transpose(), split(), concat(), gather(), expandDims(), squeeze(),
                sliceByIndex(), bandPart());
    }

    /** {@code const}: no inputs; the value is attribute {@code val}. */
    static OpDef constOp() {
        return new OpDef("const", Target.IOS15, List.of(),
                List.of(Param.constant("val", Param.ANY)),
                c -> List.of(c.type("val")),
                // strings (dtype names, modes) are read through OpContext.constant by their consumers
                c -> List.of(c.type("val").dtype() == DType.STRING ? FloatTensor.zeros(c.type("val").shape())
                        : c.constTensor("val")));
    }

    static OpDef reshape() {
        return OpDef.of("reshape", Target.IOS15,
                List.of(Param.tensor("x", Param.ANY), Param.constant("shape", Param.INT32).rank(1)),
                c -> {
                    int[] in = c.shape("x");
                    int[] req = c.ints("shape");
                    int[] out = new int[req.length];
                    int infer = -1;
                    long known = 1;
                    for (int i = 0; i < req.length; i++) {
                        if (req[i] == -1) {
                            if (infer >= 0) {
                                throw c.fail("shape", OpContext.str(req) + " has more than one -1");
                            }
                            infer = i;
                            continue;
                        }
                        if (req[i] == 0) {
                            if (i >= in.length) {
                                throw c.fail("shape", "0 at position " + i + " copies a dim x " + OpContext.str(in) + " does not have");
                            }
                            out[i] = in[i];
                        } else if (req[i] < 0) {
                            throw c.fail("shape", OpContext.str(req) + " has a negative dim other than -1");
                        } else {
                            out[i] = req[i];
                        }
                        known *= out[i];
                    }
                    long total = c.type("x").elementCount();
                    if (infer >= 0) {
                        if (known == 0 || total % known != 0) {
                            throw c.fail("shape", "cannot infer -1 in " + OpContext.str(req) + " for x " + OpContext.str(in));
                        }
                        out[infer] = (int) (total / known);
                    } else if (known != total) {
                        throw c.fail("shape", OpContext.str(req) + " holds " + known + " elements but x " + OpContext.str(in) + " has " + total);
                    }
                    return List.of(new TensorType(c.type("x").dtype(), out));
                },
                c -> List.of(new FloatTensor(c.outputType(0).shape(), c.tensor("x").data())));
    }

    static OpDef transpose() {
        return OpDef.of("transpose", Target.IOS15,
                List.of(Param.tensor("x", Param.ANY), Param.constant("perm", Param.INT32).rank(1)),
                c -> {
                    int[] in = c.shape("x");
                    int[] perm = perm(c, in.length);
                    int[] out = new int[in.length];
                    for (int i = 0; i < in.length; i++) {
                        out[i] = in[perm[i]];
                    }
                    return List.of(new TensorType(c.type("x").dtype(), out));
                },
                c -> {
                    FloatTensor x = c.tensor("x");
                    int[] perm = perm(c, x.rank());
                    int[] os = c.outputType(0).shape();
                    int[] is = Shapes.strides(x.shape());
                    float[] out = new float[x.size()];
                    for (int f = 0; f < out.length; f++) {
                        int[] idx = Shapes.unravel(f, os);
                        int off = 0;
                        for (int i = 0; i < idx.length; i++) {
                            off += idx[i] * is[perm[i]];
                        }
                        out[f] = x.data()[off];
                    }
                    return List.of(new FloatTensor(os, out));
                });
    }

    private static int[] perm(OpContext c, int rank) {
        int[] perm = c.ints("perm");
        boolean[] seen = new boolean[rank];
        if (perm.length != rank) {
            throw c.fail("perm", OpContext.str(perm) + " must list each of the " + rank + " axes of x exactly once");
        }
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) {
            p[i] = c.axis("perm", perm[i], rank);
            if (seen[p[i]]) {
                throw c.fail("perm", OpContext.str(perm) + " repeats axis " + perm[i]);
            }
            seen[p[i]] = true;
        }
        return p;
    }

    static OpDef split() {
        return OpDef.of("split", Target.IOS15,
                List.of(Param.tensor("x", Param.ANY).ranks(1, 5),
                        Param.constant("num_splits", Param.INT32).rank(0).optionalUnbound(),
                        Param.constant("split_sizes", Param.INT32).rank(1).optionalUnbound(),
                        Param.constant("axis", Param.INT32).rank(0)),
                c -> {
                    int[] in = c.shape("x");
                    int axis = c.axis("axis", c.intValue("axis"), in.length);
                    int[] sizes = splitSizes(c, in[axis]);
                    List<TensorType> out = new ArrayList<>();
                    for (int s : sizes) {
                        int[] o = in.clone();
                        o[axis] = s;
                        out.add(new TensorType(c.type("x").dtype(), o));
                    }
                    return out;
                },
                c -> {
                    FloatTensor x = c.tensor("x");
                    int axis = c.axis("axis", c.intValue("axis"), x.rank());
                    int[] sizes = splitSizes(c, x.shape()[axis]);
                    int inner = Shapes.strides(x.shape())[axis];
                    int outer = x.size() / (x.shape()[axis] * inner);
                    List<FloatTensor> outs = new ArrayList<>();
                    int start = 0;
                    for (int k = 0; k < sizes.length; k++) {
                        int len = sizes[k] * inner;
                        float[] o = new float[outer * len];
                        for (int i = 0; i < outer; i++) {
                            System.arraycopy(x.data(), i * x.shape()[axis] * inner + start * inner, o, i * len, len);
                        }
                        outs.add(new FloatTensor(c.outputType(k).shape(), o));
                        start += sizes[k];
                    }
                    return outs;
                });
    }

    private static int[] splitSizes(OpContext c, int dim) {
        boolean hasNum = c.has("num_splits");
        boolean hasSizes = c.has("split_sizes");
        if (hasNum == hasSizes) {
            throw c.fail("num_splits", "bind exactly one of num_splits and split_sizes");
        }
        if (hasNum) {
            int n = c.intValue("num_splits");
            if (n < 1 || dim % n != 0) {
                throw c.fail("num_splits", n + " does not divide the split axis (size " + dim + ") evenly");
            }
            return Shapes.filled(n, dim / n);
        }
        int[] s = c.ints("split_sizes");
        int sum = 0;
        for (int v : s) {
            if (v <= 0) {
                throw c.fail("split_sizes", OpContext.str(s) + " has a non-positive size");
            }
            sum += v;
        }
        if (sum != dim) {
            throw c.fail("split_sizes", OpContext.str(s) + " sums to " + sum + " but the split axis has size " + dim);
        }
        return s;
    }

    static OpDef concat() {
        return OpDef.of("concat", Target.IOS15,
                List.of(Param.tensor("values", Param.ANY).ranks(1, 5).asVariadic(),
                        Param.constant("axis", Param.INT32).rank(0),
                        Param.constant("interleave", Param.BOOL).rank(0).optional(Constant.bool(false))),
                c -> {
                    List<Arg> vals = c.args("values");
                    TensorType first = vals.get(0).type();
                    int axis = c.axis("axis", c.intValue("axis"), first.rank());
                    int[] out = first.shape();
                    for (int i = 1; i < vals.size(); i++) {
                        TensorType t = vals.get(i).type();
                        boolean ok = t.rank() == first.rank() && t.dtype() == first.dtype();
                        for (int d = 0; ok && d < t.rank(); d++) {
                            ok = d == axis || t.dim(d) == first.dim(d);
                        }
                        if (!ok) {
                            throw c.fail("values", "value " + i + " has type " + t + " but all values must match " + first
                                    + " except on axis " + axis);
                        }
                        out[axis] += t.dim(axis);
                    }
                    if (c.boolValue("interleave")) {
                        throw c.fail("interleave", "interleave=true is not supported by this converter");
                    }
                    return List.of(new TensorType(first.dtype(), out));
                },
                c -> {
                    List<FloatTensor> vals = c.tensors("values");
                    int[] os = c.outputType(0).shape();
                    int axis = c.axis("axis", c.intValue("axis"), os.length);
                    int inner = Shapes.strides(os)[axis];
                    int outer = Shapes.size(os) / (os[axis] * inner);
                    float[] out = new float[Shapes.size(os)];
                    int offset = 0;
                    for (FloatTensor v : vals) {
                        int len = v.shape()[axis] * inner;
                        for (int i = 0; i < outer; i++) {
                            System.arraycopy(v.data(), i * len, out, i * os[axis] * inner + offset, len);
                        }
                        offset += len;
                    }
                    return List.of(new FloatTensor(os, out));
                });
    }

    static OpDef gather() {
        return OpDef.of("gather", Target.IOS15,
                List.of(Param.tensor("x", Param.ANY).ranks(1, 5),
                        Param.tensor("indices", Param.INT32),
                        Param.constant("axis", Param.INT32).rank(0).optional(Constant.int32Scalar(0)),
                        Param.constant("batch_dims", Param.INT32).rank(0).optional(Constant.int32Scalar(0)).since(Target.IOS16),
                        Param.constant("validate_indices", Param.BOOL).rank(0).optional(Constant.bool(false)).since(Target.IOS17)),
                c -> {
                    int[] x = c.shape("x");
                    int[] ind = c.shape("indices");
                    int axis = c.axis("axis", c.intValue("axis"), x.length);
                    if (c.has("batch_dims") && c.intValue("batch_dims") != 0) {
                        throw c.fail("batch_dims", "only batch_dims=0 is supported by this converter");
                    }
                    int[] out = new int[x.length - 1 + ind.length];
                    int k = 0;
                    for (int i = 0; i < axis; i++) {
                        out[k++] = x[i];
                    }
                    for (int d : ind) {
                        out[k++] = d;
                    }
                    for (int i = axis + 1; i < x.length; i++) {
                        out[k++] = x[i];
                    }
                    if (out.length > TensorType.MAX_RANK) {
                        throw c.fail("indices", "output rank " + out.length + " exceeds " + TensorType.MAX_RANK);
                    }
                    return List.of(new TensorType(c.type("x").dtype(), out));
                },
                c -> {
                    FloatTensor x = c.tensor("x");
                    FloatTensor ind = c.tensor("indices");
                    int axis = c.axis("axis", c.intValue("axis"), x.rank());
                    int n = x.shape()[axis];
                    int inner = Shapes.strides(x.shape())[axis];
                    int outer = x.size() / (n * inner);
                    float[] out = new float[outer * ind.size() * inner];
                    for (int o = 0; o < outer; o++) {
                        for (int j = 0; j < ind.size(); j++) {
                            int idx = (int) ind.data()[j];
                            if (idx < 0) {
                                idx += n; // MIL allows negative indices
                            }
                            if (idx < 0 || idx >= n) {
                                throw c.fail("indices", "index " + (int) ind.data()[j] + " is out of range for axis size " + n);
                            }
                            System.arraycopy(x.data(), (o * n + idx) * inner, out, (o * ind.size() + j) * inner, inner);
                        }
                    }
                    return List.of(new FloatTensor(c.outputType(0).shape(), out));
                });
    }

    static OpDef expandDims() {
        return OpDef.of("expand_dims", Target.IOS15,
                List.of(Param.tensor("x", Param.ANY), Param.constant("axes", Param.INT32).rank(1)),
                c -> {
                    int[] x = c.shape("x");
                    int[] axes = c.ints("axes");
                    int r = x.length + axes.length;
                    boolean[] inserted = new boolean[r];
                    for (int a : axes) {
                        int n = c.axis("axes", a, r);
                        if (inserted[n]) {
                            throw c.fail("axes", OpContext.str(axes) + " repeats axis " + a);
                        }
                        inserted[n] = true;
                    }
                    int[] out = new int[r];
                    int k = 0;
                    for (int i = 0; i < r; i++) {
                        out[i] = inserted[i] ? 1 : x[k++];
                    }
                    if (r > TensorType.MAX_RANK) {
                        throw c.fail("axes", "result rank " + r + " exceeds " + TensorType.MAX_RANK);
                    }
                    return List.of(new TensorType(c.type("x").dtype(), out));
                },
                c -> List.of(new FloatTensor(c.outputType(0).shape(), c.tensor("x").data())));
    }

    static OpDef squeeze() {
        return OpDef.of("squeeze", Target.IOS15,
                List.of(Param.tensor("x", Param.ANY).ranks(1, 5),
                        Param.constant("axes", Param.INT32).rank(1).optional(c -> {
                            int[] x = c.shape("x");
                            return Constant.int32s(java.util.stream.IntStream.range(0, x.length).filter(i -> x[i] == 1).toArray());
                        })),
                c -> {
                    int[] x = c.shape("x");
                    boolean[] drop = new boolean[x.length];
                    for (int a : c.ints("axes")) {
                        int n = c.axis("axes", a, x.length);
                        if (x[n] != 1) {
                            throw c.fail("axes", "axis " + a + " of x " + OpContext.str(x) + " has size " + x[n] + ", only size-1 axes can be squeezed");
                        }
                        drop[n] = true;
                    }
                    int[] out = java.util.stream.IntStream.range(0, x.length).filter(i -> !drop[i]).map(i -> x[i]).toArray();
                    return List.of(new TensorType(c.type("x").dtype(), out));
                },
                c -> List.of(new FloatTensor(c.outputType(0).shape(), c.tensor("x").data())));
    }

    static OpDef sliceByIndex() {
        return OpDef.of("slice_by_index", Target.IOS15,
                List.of(Param.tensor("x", Param.ANY).ranks(1, 5),
                        Param.constant("begin", Param.INT32).rank(1),
                        Param.constant("end", Param.INT32).rank(1),
                        Param.constant("stride", Param.INT32).rank(1).optional(c -> Constant.int32s(Shapes.filled(c.rank("x"), 1))),
                        Param.constant("begin_mask", Param.BOOL).rank(1).optional(c -> Constant.bools(new boolean[c.rank("x")])),
                        Param.constant("end_mask", Param.BOOL).rank(1).optional(c -> Constant.bools(new boolean[c.rank("x")])),
                        Param.constant("squeeze_mask", Param.BOOL).rank(1).optional(c -> Constant.bools(new boolean[c.rank("x")]))),
                c -> {
                    Slice s = slice(c);
                    return List.of(new TensorType(c.type("x").dtype(), s.outShape()));
                },
                c -> {
                    Slice s = slice(c);
                    FloatTensor x = c.tensor("x");
                    int[] st = Shapes.strides(x.shape());
                    int[] full = s.counts;
                    int n = Shapes.size(full);
                    float[] out = new float[n];
                    for (int f = 0; f < n; f++) {
                        int[] idx = Shapes.unravel(f, full);
                        int off = 0;
                        for (int i = 0; i < idx.length; i++) {
                            off += (s.begin[i] + idx[i] * s.stride[i]) * st[i];
                        }
                        out[f] = x.data()[off];
                    }
                    return List.of(new FloatTensor(c.outputType(0).shape(), out));
                });
    }

    private record Slice(int[] begin, int[] stride, int[] counts, boolean[] squeeze) {
        int[] outShape() {
            return java.util.stream.IntStream.range(0, counts.length).filter(i -> !squeeze[i]).map(i -> counts[i]).toArray();
        }
    }

    private static Slice slice(OpContext c) {
        int[] x = c.shape("x");
        int r = x.length;
        int[] begin = c.ints("begin"), end = c.ints("end"), stride = c.ints("stride");
        boolean[] bm = c.bools("begin_mask"), em = c.bools("end_mask"), sq = c.bools("squeeze_mask");
        for (String p : List.of("begin", "end", "stride", "begin_mask", "end_mask", "squeeze_mask")) {
            if (c.type(p).elementCount() != r) {
                throw c.fail(p, "needs " + r + " values (one per axis of x " + OpContext.str(x) + "), got " + c.type(p).elementCount());
            }
        }
        int[] b = new int[r], counts = new int[r];
        for (int i = 0; i < r; i++) {
            int s = stride[i];
            if (s == 0) {
                throw c.fail("stride", "stride 0 on axis " + i);
            }
            int d = x[i];
            int lo = bm[i] ? (s > 0 ? 0 : d - 1) : clampIndex(begin[i], d, s);
            int hi = em[i] ? (s > 0 ? d : -1) : clampIndex(end[i], d, s);
            if (sq[i]) {
                hi = lo + (s > 0 ? 1 : -1);
            }
            int count = s > 0 ? Math.max(0, (hi - lo + s - 1) / s) : Math.max(0, (lo - hi - s - 1) / -s);
            if (count == 0) {
                throw c.fail("begin", "slice is empty on axis " + i + " (begin " + begin[i] + ", end " + end[i] + ", stride " + s
                        + ", size " + d + "); empty tensors are not supported");
            }
            b[i] = lo;
            counts[i] = count;
        }
        return new Slice(b, stride, counts, sq);
    }

    private static int clampIndex(int v, int d, int stride) {
        if (v < 0) {
            v += d;
        }
        return stride > 0 ? Math.max(0, Math.min(v, d)) : Math.max(-1, Math.min(v, d - 1));
    }

    static OpDef bandPart() {
        return OpDef.of("band_part", Target.IOS15,
                List.of(Param.tensor("x", Param.NUMERIC).ranks(2, 5),
                        Param.constant("lower", Param.INT32).rank(0).optional(Constant.int32Scalar(-1)),
                        Param.constant("upper", Param.INT32).rank(0).optional(Constant.int32Scalar(-1))),
                c -> List.of(c.type("x")),
                c -> {
                    // keep x[..., i, j] where (lower < 0 || i - j <= lower) && (upper < 0 || j - i <= upper)
                    FloatTensor x = c.tensor("x");
                    int lower = c.intValue("lower"), upper = c.intValue("upper");
                    int rows = x.shape()[x.rank() - 2], cols = x.shape()[x.rank() - 1];
                    float[] out = x.data().clone();
                    for (int f = 0; f < out.length; f++) {
                        int j = f % cols, i = (f / cols) % rows;
                        if ((lower >= 0 && i - j > lower) || (upper >= 0 && j - i > upper)) {
                            out[f] = 0;
                        }
                    }
                    return List.of(new FloatTensor(x.shape(), out));
                });
    }
}

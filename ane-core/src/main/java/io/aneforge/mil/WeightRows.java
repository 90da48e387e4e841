package io.aneforge.mil;

/**
 * A load-time weight ({@code const}, or a {@code constexpr_*} dequantization) decoded a range of
 * elements at a time, with the per-element operations of the op's own evaluation: the
 * dequantizing evaluators decode the whole weight through the same object, so a range decoded
 * here holds the floats the whole evaluation holds at those positions.
 *
 * <p>Why: the reference runtime keeps a table that only {@code gather} reads (a word embedding:
 * 11.7 M of all-MiniLM-L6-v2's 22.7 M weights) in this form and decodes, per prediction, the
 * rows it gathers, instead of decoding the whole table when the model loads.
 */
@FunctionalInterface
public interface WeightRows {

    /**
     * Elements {@code [from, from + n)} of the weight, in row-major order, into {@code dst} from
     * {@code off} (the argument order of {@link Constant#floatsInto}).
     */
    void decode(int from, float[] dst, int off, int n);

    /** Ranges given to {@link #decode} start and end on multiples of this many elements (1: any range). */
    default int unit() {
        return 1;
    }

    /**
     * The decoder of a weight op's output: a non-string {@code const}, {@code constexpr_blockwise_shift_scale}
     * or {@code constexpr_affine_dequantize}; null for any other op.
     */
    static WeightRows of(Operation op) {
        OpContext c = new OpContext(Ops.get(op.type()), op.name(), op.inputs(), op.attributes());
        switch (op.type()) {
            case "const": {
                Constant val = c.constant("val");
                // what the const's evaluation (Constant.toFloatTensor) does for every element
                return val.dtype() == DType.STRING ? null : val::floatsInto;
            }
            case "constexpr_blockwise_shift_scale":
                return ConstexprOps.blockwiseRows(c);
            case "constexpr_affine_dequantize":
                return ConstexprOps.affineRows(c);
            default:
                return null;
        }
    }
}

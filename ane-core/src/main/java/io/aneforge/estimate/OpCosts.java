package io.aneforge.estimate;

import io.aneforge.mil.Arg;
import io.aneforge.mil.Constant;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Var;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * FLOPs per MIL op type. Contractions count exactly 2 FLOPs per multiply-accumulate
 * (bias adds are not counted: they are one add per output element, noise next to the
 * contraction). Everything else counts a small constant per output element; these
 * constants are rough on purpose — in a transformer the contractions are more than
 * 95 % of the FLOPs, so the constants only matter for tiny graphs:
 * <ul>
 *   <li>binary arithmetic, comparisons, select, relu, band_part: 1 per element</li>
 *   <li>exp, tanh, erf, sqrt, rsqrt, sigmoid, pow: 4 per element (a transcendental on the
 *       Neural Engine is a short polynomial/lookup sequence, not one FLOP)</li>
 *   <li>softmax: 5 per element (max, subtract, exp, sum, divide)</li>
 *   <li>layer_norm: 8 per element (mean, subtract, square, variance sum, normalize,
 *       gamma, beta, the rsqrt amortized over the row)</li>
 *   <li>gelu: 8 per element (the tanh approximation: cube, 3 multiply-adds, tanh)</li>
 *   <li>reduce_mean: 1 per input element</li>
 *   <li>data movement (reshape, transpose, split, concat, gather, slice, squeeze,
 *       expand_dims, cast) and constants: 0 (their cost is bytes, not FLOPs)</li>
 * </ul>
 */
final class OpCosts {
    static final long SIMPLE = 1;
    static final long TRANSCENDENTAL = 4;
    static final long SOFTMAX = 5;
    static final long LAYER_NORM = 8;
    static final long GELU = 8;

    /** Ops that are views or compile-time work: no FLOPs and no activation traffic. */
    static final Set<String> FREE = Set.of("const", "constexpr_affine_dequantize", "constexpr_blockwise_shift_scale",
            "reshape", "squeeze", "expand_dims");

    @FunctionalInterface
    interface FlopRule {
        long flops(Operation op);
    }

    private static final Map<String, FlopRule> RULES = new HashMap<>();

    static {
        for (String t : List.of("add", "sub", "mul", "real_div", "maximum", "minimum", "greater", "less", "equal",
                "select", "relu", "band_part")) {
            RULES.put(t, perOutput(SIMPLE));
        }
        for (String t : List.of("exp", "tanh", "erf", "sqrt", "rsqrt", "sigmoid", "pow")) {
            RULES.put(t, perOutput(TRANSCENDENTAL));
        }
        // W8A8's activation pairs: a scale, a round and a clamp per element (Core ML may fuse them away)
        RULES.put("quantize", perOutput(SIMPLE));
        RULES.put("dequantize", perOutput(SIMPLE));
        RULES.put("softmax", perOutput(SOFTMAX));
        RULES.put("layer_norm", perOutput(LAYER_NORM));
        RULES.put("gelu", perOutput(GELU));
        RULES.put("reduce_mean", op -> elements(op.inputs().get("x").get(0)));
        for (String t : List.of("const", "constexpr_affine_dequantize", "constexpr_blockwise_shift_scale", "reshape",
                "transpose", "split", "concat", "gather", "expand_dims", "squeeze", "slice_by_index", "cast")) {
            RULES.put(t, op -> 0L);
        }
        // out[..., n] = sum_k x[..., k] * w[n, k]
        RULES.put("linear", op -> 2 * outputElements(op) * shape(op, "weight")[1]);
        // contracted length: last dim of x, or the one before it when x is transposed
        RULES.put("matmul", op -> {
            int[] x = shape(op, "x");
            boolean tx = isTrue(op.inputs().get("transpose_x"));
            return 2 * outputElements(op) * x[tx ? x.length - 2 : x.length - 1];
        });
        // each output element sums over in-channels/groups times the kernel window: weight [out, in/groups, k...]
        RULES.put("conv", op -> {
            int[] w = shape(op, "weight");
            long window = 1;
            for (int i = 1; i < w.length; i++) {
                window *= w[i];
            }
            return 2 * outputElements(op) * window;
        });
        // both supported equations (nchw,nwhu->nchu and chw,whr->chr) contract the last axis of the first operand
        RULES.put("einsum", op -> {
            int[] a = op.inputs().get("values").get(0).type().shape();
            return 2 * outputElements(op) * a[a.length - 1];
        });
    }

    private OpCosts() {
    }

    static boolean knows(String type) {
        return RULES.containsKey(type);
    }

    /** FLOPs of one op; an op type without a rule is a bug in this table (see the guard test). */
    static long flops(Operation op) {
        FlopRule r = RULES.get(op.type());
        if (r == null) {
            throw new IllegalStateException("no FLOP rule for MIL op type '" + op.type() + "' (op '" + op.name()
                    + "'); add one to io.aneforge.estimate.OpCosts");
        }
        return r.flops(op);
    }

    private static FlopRule perOutput(long perElement) {
        return op -> perElement * outputElements(op);
    }

    private static long outputElements(Operation op) {
        long n = 0;
        for (Var v : op.outputs()) {
            n += v.type().elementCount();
        }
        return n;
    }

    /** A bool parameter bound as an immediate or as a const var; unbound means false (the default). */
    private static boolean isTrue(List<Arg> bound) {
        if (bound == null || bound.isEmpty()) {
            return false;
        }
        Arg a = bound.get(0);
        if (a instanceof Constant c) {
            return c.boolValue();
        }
        return a instanceof Var v && v.constValue() != null && v.constValue().boolValue();
    }

    private static long elements(Arg a) {
        return a.type().elementCount();
    }

    private static int[] shape(Operation op, String param) {
        return op.inputs().get(param).get(0).type().shape();
    }
}

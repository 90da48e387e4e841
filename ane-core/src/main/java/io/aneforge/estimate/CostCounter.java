package io.aneforge.estimate;

import io.aneforge.mil.Arg;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Var;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Counts the FLOPs and bytes of one prediction of a MIL program, for the roofline
 * estimate. The model is deliberately simple; its assumptions:
 * <ol>
 *   <li><b>FLOPs</b> per op as in {@link OpCosts}: 2 per multiply-accumulate for matmul,
 *       linear, conv and einsum; a small documented constant per element otherwise.</li>
 *   <li><b>Weights are read once per prediction at their stored size.</b> A weight is the
 *       data behind a {@code const} op or a {@code constexpr_*} op; a constexpr weight
 *       counts its packed data plus its scales and zero points/offsets (int8 = 1 byte,
 *       int4 = half a byte per element). This assumes the Neural Engine decompresses
 *       quantized weights as it streams them (iOS 17+ behaviour on recent chips, the point
 *       of weight compression for memory-bound models); where Core ML materializes fp16
 *       weights at load time instead, the real traffic is the fp16 size and this count is
 *       optimistic. A weight shared by several ops (tied embeddings) is counted once;
 *       {@code gather} from a constant table reads only the gathered rows.</li>
 *   <li><b>Constant folding:</b> an op whose every tensor input is a weight (or derived from
 *       one, e.g. a reshaped constant) is folded by Core ML at compile time: no FLOPs, no
 *       traffic; its consumers read the underlying weights.</li>
 *   <li><b>Activations at fp16:</b> every other op reads its non-constant tensor inputs and
 *       writes its outputs at 2 bytes per element (the Neural Engine computes in fp16),
 *       whatever dtype the program declares. No fusion and no on-chip reuse is assumed, so
 *       this over-counts activation traffic for fused chains whose intermediates stay in
 *       the Neural Engine's SRAM. Views ({@code reshape}, {@code squeeze},
 *       {@code expand_dims}) move nothing.</li>
 *   <li><b>Parameters are not weights:</b> constants of fewer than 10 elements (axes,
 *       epsilons, a constexpr's axis, dtype and mode strings) are ignored, whether bound as
 *       immediates or through named {@code const} ops as coremltools writes them.</li>
 * </ol>
 */
public final class CostCounter {
    /** Bytes per activation element: the Neural Engine computes in fp16. */
    public static final int ACTIVATION_BYTES = 2;

    private CostCounter() {
    }

    public static ProgramCost count(Program program) {
        // var name -> the stored constants it derives from (empty for a non-constant var)
        Map<String, Set<String>> roots = new HashMap<>();
        Map<String, Long> stored = new HashMap<>();   // root var -> stored bytes
        Map<String, Double> read = new LinkedHashMap<>(); // root var -> largest fraction any op reads
        Map<String, Long> byType = new LinkedHashMap<>();
        long flops = 0;
        long activations = 0;
        for (Operation op : program.operations()) {
            String type = op.type();
            if (type.equals("const")) {
                Var out = op.output();
                roots.put(out.name(), Set.of(out.name()));
                stored.put(out.name(), bytes(out.constValue()));
                continue;
            }
            if (type.startsWith("constexpr_")) {
                Var out = op.output();
                Set<String> r = new LinkedHashSet<>(constantRoots(op, roots));
                r.add(out.name());
                roots.put(out.name(), r);
                stored.put(out.name(), immediateBytes(op));
                continue;
            }
            if (isFolded(op, roots)) {
                Set<String> r = constantRoots(op, roots);
                for (Var out : op.outputs()) {
                    roots.put(out.name(), r);
                }
                continue;
            }
            if (OpCosts.FREE.contains(type)) {
                continue; // a view of a non-constant tensor
            }
            long f = OpCosts.flops(op);
            flops += f;
            byType.merge(type, f, Long::sum);
            for (Map.Entry<String, List<Arg>> e : op.inputs().entrySet()) {
                for (Arg a : e.getValue()) {
                    if (!(a instanceof Var v)) {
                        continue;
                    }
                    Set<String> r = roots.get(v.name());
                    if (r != null) {
                        double fraction = readFraction(op, e.getKey(), v);
                        for (String root : r) {
                            read.merge(root, fraction, Math::max);
                        }
                    } else {
                        activations += ACTIVATION_BYTES * v.type().elementCount();
                    }
                }
            }
            for (Var out : op.outputs()) {
                activations += ACTIVATION_BYTES * out.type().elementCount();
            }
        }
        long weights = 0;
        for (Map.Entry<String, Double> e : read.entrySet()) {
            weights += (long) Math.ceil(stored.get(e.getKey()) * e.getValue());
        }
        return new ProgramCost(flops, weights, activations, byType);
    }

    /** gather from a constant table reads only the rows it gathers; every other op reads a weight whole. */
    private static double readFraction(Operation op, String param, Var v) {
        if (op.type().equals("gather") && param.equals("x")) {
            return Math.min(1.0, (double) op.output().type().elementCount() / v.type().elementCount());
        }
        return 1.0;
    }

    private static boolean isFolded(Operation op, Map<String, Set<String>> roots) {
        boolean anyVar = false;
        for (List<Arg> args : op.inputs().values()) {
            for (Arg a : args) {
                if (a instanceof Var v) {
                    anyVar = true;
                    if (!roots.containsKey(v.name())) {
                        return false;
                    }
                }
            }
        }
        return anyVar;
    }

    private static Set<String> constantRoots(Operation op, Map<String, Set<String>> roots) {
        Set<String> r = new LinkedHashSet<>();
        for (List<Arg> args : op.inputs().values()) {
            for (Arg a : args) {
                if (a instanceof Var v && roots.containsKey(v.name())) {
                    r.addAll(roots.get(v.name()));
                }
            }
        }
        return r;
    }

    /** Stored bytes of a constexpr op's own data: its immediate inputs and attributes (data, scales, offsets). */
    private static long immediateBytes(Operation op) {
        long n = 0;
        for (List<Arg> args : op.inputs().values()) {
            for (Arg a : args) {
                if (a instanceof Constant c) {
                    n += bytes(c);
                }
            }
        }
        for (Constant c : op.attributes().values()) {
            n += bytes(c);
        }
        return n;
    }

    /**
     * Stored bytes of a weight. Constants under {@link MilBuilder#IMMEDIATE_LIMIT} elements are
     * op parameters (axes, epsilons, a constexpr's axis), not weights, however they are bound:
     * coremltools binds them through named {@code const} ops, this project's builder as immediates.
     */
    private static long bytes(Constant c) {
        if (c.dtype() == DType.STRING || c.elementCount() < MilBuilder.IMMEDIATE_LIMIT) {
            return 0;
        }
        return c.dtype().byteSize(c.elementCount());
    }
}

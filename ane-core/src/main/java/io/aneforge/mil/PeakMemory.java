package io.aneforge.mil;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Peak live intermediate bytes of a program run op by op in order, each value freed after its
 * last reader (what {@code ReferenceEvaluator} does). Intermediates are outputs of ordinary ops;
 * {@code const} and {@code constexpr_*} outputs are weights, and inputs are the caller's.
 */
public final class PeakMemory {
    private PeakMemory() {
    }

    /** The peak and the op whose outputs reach it (null for a program without intermediates). */
    public record Peak(long bytes, Operation at) {
    }

    /** Bytes use the declared dtype (an FP16 program counts 2 bytes per element): what the program needs on a device. */
    public static long peakIntermediateBytes(Program program) {
        return peak(program, v -> v.dtype().byteSize(v.type().elementCount())).bytes();
    }

    /**
     * Bytes as the reference runtime holds values: every intermediate is a {@code float[]}, 4 bytes per element
     * whatever its dtype.
     */
    public static Peak peakFloatBytes(Program program) {
        return peak(program, v -> 4 * v.type().elementCount());
    }

    /**
     * The index of the last op that reads each var ({@code Integer.MAX_VALUE} for the program's outputs): a value
     * is dead after that op. Shared with {@link ReferenceEvaluator}, which frees values at the same points, so
     * the peak computed here is the one the evaluator reaches.
     */
    static Map<String, Integer> lastUses(Program program) {
        List<Operation> ops = program.operations();
        Map<String, Integer> lastUse = new HashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            for (List<Arg> args : ops.get(i).inputs().values()) {
                for (Arg a : args) {
                    if (a instanceof Var v) {
                        lastUse.put(v.name(), i);
                    }
                }
            }
        }
        for (Var o : program.outputs()) {
            lastUse.put(o.name(), Integer.MAX_VALUE);
        }
        return lastUse;
    }

    private static Peak peak(Program program, ToLongFunction<Var> bytesOf) {
        List<Operation> ops = program.operations();
        Map<String, Integer> lastUse = lastUses(program);
        Map<String, Long> live = new HashMap<>();
        long current = 0;
        long peak = 0;
        Operation at = null;
        for (int i = 0; i < ops.size(); i++) {
            Operation op = ops.get(i);
            boolean weight = op.type().equals("const") || op.type().startsWith("constexpr_");
            if (!weight) {
                for (Var out : op.outputs()) {
                    long bytes = bytesOf.applyAsLong(out);
                    live.put(out.name(), bytes);
                    current += bytes;
                }
                if (current > peak) {
                    peak = current;
                    at = op;
                }
            }
            final int now = i;
            var it = live.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (lastUse.getOrDefault(e.getKey(), -1) <= now) {
                    current -= e.getValue();
                    it.remove();
                }
            }
        }
        return new Peak(peak, at);
    }
}

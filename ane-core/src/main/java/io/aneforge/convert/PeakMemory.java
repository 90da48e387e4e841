package io.aneforge.convert;

import io.aneforge.mil.Arg;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Var;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Peak live intermediate bytes of a program run op by op in order, each value freed after its
 * last reader (what {@code ReferenceEvaluator} does). Intermediates are outputs of ordinary ops;
 * {@code const} and {@code constexpr_*} outputs are weights, and inputs are the caller's. Bytes
 * use the declared dtype (an FP16 program counts 2 bytes per element).
 */
public final class PeakMemory {
    private PeakMemory() {
    }

    public static long peakIntermediateBytes(Program program) {
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
        Map<String, Long> live = new HashMap<>();
        long current = 0;
        long peak = 0;
        for (int i = 0; i < ops.size(); i++) {
            Operation op = ops.get(i);
            boolean weight = op.type().equals("const") || op.type().startsWith("constexpr_");
            if (!weight) {
                for (Var out : op.outputs()) {
                    long bytes = out.dtype().byteSize(out.type().elementCount());
                    live.put(out.name(), bytes);
                    current += bytes;
                }
                peak = Math.max(peak, current);
            }
            final int at = i;
            var it = live.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (lastUse.getOrDefault(e.getKey(), -1) <= at) {
                    current -= e.getValue();
                    it.remove();
                }
            }
        }
        return peak;
    }
}

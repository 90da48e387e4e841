package io.aneforge.mil;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Re-checks a whole program the way the builder checks each op: every op known at the
 * target, every bound var defined earlier, every argument within its rules, and every
 * declared output type equal to what the op infers. Used on programs read from disk.
 */
public final class ProgramValidator {
    private ProgramValidator() {
    }

    public static void validate(Program p) {
        Map<String, Var> defined = new HashMap<>();
        for (Var v : p.inputs()) {
            define(defined, v, "function input");
        }
        for (Operation op : p.operations()) {
            OpDef def = Ops.get(op.type());
            for (Map.Entry<String, List<Arg>> e : op.inputs().entrySet()) {
                for (Arg a : e.getValue()) {
                    if (a instanceof Var v) {
                        Var known = defined.get(v.name());
                        if (known == null) {
                            throw new MilException("op '" + op.name() + "' (" + op.type() + "), argument '" + e.getKey()
                                    + "': var '" + v.name() + "' is not defined before this op (operations must be in topological order)");
                        }
                        if (!known.type().equals(v.type())) {
                            throw new MilException("op '" + op.name() + "' (" + op.type() + "), argument '" + e.getKey()
                                    + "': var '" + v.name() + "' is bound with type " + v.type() + " but was declared " + known.type());
                        }
                    }
                }
            }
            List<TensorType> inferred = OpChecker.check(def, op.name(), op.inputs(), op.attributes(), p.target());
            if (inferred.size() != op.outputs().size()) {
                throw new MilException("op '" + op.name() + "' (" + op.type() + ") declares " + op.outputs().size()
                        + " outputs but infers " + inferred.size());
            }
            for (int i = 0; i < inferred.size(); i++) {
                Var out = op.outputs().get(i);
                if (!out.type().equals(inferred.get(i))) {
                    throw new MilException("op '" + op.name() + "' (" + op.type() + ") declares output '" + out.name() + "' as "
                            + out.type() + " but its inputs give " + inferred.get(i) + "; fix the declared output type");
                }
                define(defined, out, "output of op '" + op.name() + "'");
            }
        }
        for (Var o : p.outputs()) {
            Var known = defined.get(o.name());
            if (known == null || !known.type().equals(o.type())) {
                throw new MilException("program output '" + o.name() + "' is not a var defined in the program");
            }
        }
    }

    private static void define(Map<String, Var> defined, Var v, String what) {
        if (defined.put(v.name(), v) != null) {
            throw new MilException("var '" + v.name() + "' (" + what + ") is defined twice; names must be unique");
        }
    }
}

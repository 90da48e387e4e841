package io.aneforge.mil;

import java.util.List;
import java.util.Map;

/**
 * The checks shared by {@link MilBuilder} (as each op is added) and {@link ProgramValidator}
 * (on programs read from disk): op and parameters exist at the target, required ones are
 * bound, dtypes, ranks and constness hold; then the op's type rule gives the outputs.
 */
public final class OpChecker {
    private OpChecker() {
    }

    public static List<TensorType> check(OpDef def, String opName, Map<String, List<Arg>> inputs,
                                         Map<String, Constant> attributes, Target target) {
        OpContext c = new OpContext(def, opName, inputs, attributes);
        if (!target.atLeast(def.since())) {
            throw c.fail("needs " + def.since().os() + " (" + def.since().opset() + ") but the program targets "
                    + target.os() + " (" + target.opset() + "); raise the deployment target");
        }
        for (String key : inputs.keySet()) {
            Param p = def.param(key);
            if (p == null || def.isAttribute(key)) {
                throw c.fail(key, "unknown parameter; " + def.type() + " accepts " + def.paramNames());
            }
        }
        for (String key : attributes.keySet()) {
            if (!def.isAttribute(key)) {
                throw c.fail(key, "unknown attribute; " + def.type() + " takes attributes "
                        + def.attributes().stream().map(Param::name).toList());
            }
        }
        for (Param p : def.inputs()) {
            List<Arg> args = inputs.get(p.name());
            if (args == null) {
                if (!p.optional() && target.atLeast(p.since())) {
                    throw c.fail(p.name(), "is required but not bound");
                }
                continue;
            }
            if (!target.atLeast(p.since())) {
                throw c.fail(p.name(), "exists only from " + p.since().os() + " (" + p.since().opset() + "); the program targets " + target.os());
            }
            if (args.isEmpty() || (!p.variadic() && args.size() != 1)) {
                throw c.fail(p.name(), (p.variadic() ? "needs at least one binding" : "takes exactly one binding") + ", got " + args.size());
            }
            for (Arg a : args) {
                checkArg(c, p, a.type(), a);
            }
        }
        for (Param p : def.attributes()) {
            Constant a = attributes.get(p.name());
            if (a == null) {
                if (!p.optional()) {
                    throw c.fail(p.name(), "attribute is required but missing");
                }
                continue;
            }
            checkArg(c, p, a.type(), a);
        }
        List<TensorType> out = def.typeRule().infer(c);
        if (out == null || out.isEmpty()) {
            throw new IllegalStateException("type rule of " + def.type() + " returned no outputs");
        }
        return out;
    }

    private static void checkArg(OpContext c, Param p, TensorType t, Arg a) {
        if (!p.dtypes().contains(t.dtype())) {
            throw c.fail(p.name(), "dtype " + t.dtype().milName() + " is not allowed (allowed: "
                    + p.dtypes().stream().map(DType::milName).sorted().toList() + ")");
        }
        if (p.sameDTypeAs() != null && c.has(p.sameDTypeAs())) {
            DType other = c.type(p.sameDTypeAs()).dtype();
            if (other != t.dtype()) {
                throw c.fail(p.name(), "dtype " + t.dtype().milName() + " must equal the dtype of '" + p.sameDTypeAs()
                        + "' (" + other.milName() + "); insert a cast");
            }
        }
        if (t.rank() < p.minRank() || t.rank() > p.maxRank()) {
            throw c.fail(p.name(), "rank " + t.rank() + " (shape " + OpContext.str(t.shape()) + ") is outside the allowed range "
                    + p.minRank() + ".." + p.maxRank());
        }
        if (p.mustBeConst() && a instanceof Var v && !v.isCompileTimeConstant()) {
            throw c.fail(p.name(), "must be a compile-time constant (bind a const op or an immediate value), got var '"
                    + ((Var) a).name() + "'");
        }
    }
}

package io.aneforge.mil;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The registry of every MIL op this project knows, each defined once. */
public final class Ops {
    private static final Map<String, OpDef> BY_TYPE;

    static {
        List<OpDef> all = new ArrayList<>();
        all.addAll(ShapeOps.all());
        all.addAll(ElementwiseOps.all());
        all.addAll(LinalgOps.all());
        all.addAll(NormOps.all());
        all.addAll(ConstexprOps.all());
        all.addAll(QuantizeOps.all());
        Map<String, OpDef> m = new LinkedHashMap<>();
        for (OpDef d : all) {
            if (m.put(d.type(), d) != null) {
                throw new IllegalStateException("op " + d.type() + " is defined twice");
            }
        }
        BY_TYPE = Collections.unmodifiableMap(m);
    }

    private Ops() {
    }

    public static Map<String, OpDef> all() {
        return BY_TYPE;
    }

    /** The definition of {@code type}; a {@link MilException} naming the known ops when unknown. */
    public static OpDef get(String type) {
        OpDef d = BY_TYPE.get(type);
        if (d == null) {
            throw new MilException("unknown MIL op '" + type + "' (this converter supports " + BY_TYPE.keySet() + ")");
        }
        return d;
    }

    /**
     * {@code op} with the defaults of the optional parameters it leaves unbound (coremltools omits e.g.
     * {@code transpose_x} when false), computed exactly as the builder would, in the definition's
     * parameter order; {@code op} itself when nothing is missing.
     */
    public static Operation withDefaults(Operation op, Target target) {
        OpDef def = get(op.type());
        Map<String, List<Arg>> bound = new LinkedHashMap<>(op.inputs());
        Map<String, List<Arg>> ordered = new LinkedHashMap<>();
        boolean changed = false;
        for (Param p : def.inputs()) {
            if (bound.containsKey(p.name())) {
                ordered.put(p.name(), bound.get(p.name()));
            } else if (p.optional() && p.defaultValue() != null && target.atLeast(p.since())) {
                Constant d = p.defaultValue().compute(new OpContext(def, op.name(), bound, op.attributes()));
                bound.put(p.name(), List.of(d));
                ordered.put(p.name(), List.of(d));
                changed = true;
            }
        }
        return changed ? new Operation(op.type(), op.name(), ordered, op.attributes(), op.outputs()) : op;
    }
}

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
}

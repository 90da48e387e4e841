package io.aneforge.mil;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One MIL operation. {@code inputs} maps each bound parameter to its bindings (one,
 * or several for a variadic parameter such as {@code concat.values}), in the op
 * definition's parameter order. {@code attributes} holds op attributes other than
 * {@code name} ({@code const.val}, the parameters of {@code constexpr_affine_dequantize}).
 */
public record Operation(String type, String name, Map<String, List<Arg>> inputs, Map<String, Constant> attributes,
                        List<Var> outputs) {
    public Operation {
        Names.requireIdentifier(name);
        Map<String, List<Arg>> in = new LinkedHashMap<>();
        inputs.forEach((k, v) -> in.put(k, List.copyOf(v)));
        inputs = Collections.unmodifiableMap(in);
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        outputs = List.copyOf(outputs);
        if (outputs.isEmpty()) {
            throw new IllegalStateException("op '" + name + "' (" + type + ") has no outputs");
        }
    }

    public Var output() {
        if (outputs.size() != 1) {
            throw new IllegalStateException("op '" + name + "' (" + type + ") has " + outputs.size() + " outputs");
        }
        return outputs.get(0);
    }

    @Override
    public String toString() {
        return outputs + " = " + type + "(" + inputs + (attributes.isEmpty() ? "" : ", attrs " + attributes) + ") [" + name + "]";
    }
}

package io.aneforge.mil;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A MIL program with one function, {@code main}: its inputs, its operations in
 * topological order, its outputs, the deployment target (which fixes the spec version
 * and opset) and user-defined metadata ({@code ModelDescription.metadata.userDefined}).
 */
public record Program(Target target, List<Var> inputs, List<Operation> operations, List<Var> outputs,
                      Map<String, String> metadata) {
    public Program {
        if (target == null) {
            throw new IllegalArgumentException("target is required");
        }
        inputs = List.copyOf(inputs);
        operations = List.copyOf(operations);
        outputs = List.copyOf(outputs);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        if (outputs.isEmpty()) {
            throw new MilException("a program needs at least one output");
        }
    }

    /** The op producing {@code varName}, or null for a function input. */
    public Operation producer(String varName) {
        for (Operation op : operations) {
            for (Var v : op.outputs()) {
                if (v.name().equals(varName)) {
                    return op;
                }
            }
        }
        return null;
    }
}

package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.List;

/**
 * Everything about one MIL op in one place (coremltools style): its parameters with
 * defaults, dtypes, ranks and first target; its type rule; its scalar FP32 reference
 * evaluation. The builder, the validator, the writer and the reference runtime all
 * read this, so they cannot disagree.
 *
 * @param inputs     parameters written as {@code Operation.inputs}
 * @param attributes parameters written as op attributes (besides {@code name})
 */
public record OpDef(String type, Target since, List<Param> inputs, List<Param> attributes, TypeRule typeRule,
                    Evaluator evaluator) {

    @FunctionalInterface
    public interface TypeRule {
        /** Output types from the bound arguments; throws via {@link OpContext#fail} on a broken rule. */
        List<TensorType> infer(OpContext c);
    }

    @FunctionalInterface
    public interface Evaluator {
        /** Plain scalar FP32 reference evaluation; integer data is carried as exact floats. */
        List<FloatTensor> evaluate(EvalContext c);
    }

    public OpDef {
        inputs = List.copyOf(inputs);
        attributes = List.copyOf(attributes);
        if (typeRule == null || evaluator == null) {
            throw new IllegalStateException("op " + type + " needs a type rule and an evaluation");
        }
    }

    public static OpDef of(String type, Target since, List<Param> inputs, TypeRule rule, Evaluator eval) {
        return new OpDef(type, since, inputs, List.of(), rule, eval);
    }

    public Param param(String name) {
        for (Param p : inputs) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        for (Param p : attributes) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    public boolean isAttribute(String name) {
        return attributes.stream().anyMatch(p -> p.name().equals(name));
    }

    /** Names of all parameters, for error messages. */
    public List<String> paramNames() {
        return java.util.stream.Stream.concat(inputs.stream(), attributes.stream()).map(Param::name).toList();
    }
}

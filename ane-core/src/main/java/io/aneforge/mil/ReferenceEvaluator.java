package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a program with each op's scalar FP32 reference evaluation. Integer inputs
 * (token ids) are carried as exact floats. This defines what a program means; fast
 * kernels are checked against it.
 */
public final class ReferenceEvaluator {
    private ReferenceEvaluator() {
    }

    /** Evaluates {@code program} on named inputs and returns its outputs by name, in order. */
    public static Map<String, FloatTensor> run(Program program, Map<String, FloatTensor> inputs) {
        Map<String, FloatTensor> values = new HashMap<>();
        for (Var in : program.inputs()) {
            FloatTensor t = inputs.get(in.name());
            if (t == null) {
                throw new MilException("missing input '" + in.name() + "' of type " + in.type());
            }
            if (!Arrays.equals(t.shape(), in.shape())) {
                throw new MilException("input '" + in.name() + "' has shape " + t.shapeString() + " but the program expects "
                        + Arrays.toString(in.shape()));
            }
            values.put(in.name(), t);
        }
        // last use of each var, so intermediates are dropped as soon as nothing reads them
        Map<String, Integer> lastUse = PeakMemory.lastUses(program);
        List<Operation> ops = program.operations();
        for (int index = 0; index < ops.size(); index++) {
            Operation op = ops.get(index);
            OpDef def = Ops.get(op.type());
            List<TensorType> types = op.outputs().stream().map(Var::type).toList();
            EvalContext c = new EvalContext(def, op.name(), op.inputs(), op.attributes(), types, a -> {
                if (a instanceof Constant k) {
                    return k.toFloatTensor();
                }
                FloatTensor v = values.get(((Var) a).name());
                if (v == null) {
                    throw new IllegalStateException("var " + ((Var) a).name() + " has no value when op " + op.name() + " runs");
                }
                return v;
            });
            List<FloatTensor> outs = def.evaluator().evaluate(c);
            if (outs.size() != op.outputs().size()) {
                throw new IllegalStateException("evaluation of " + op.type() + " returned " + outs.size() + " outputs");
            }
            for (int i = 0; i < outs.size(); i++) {
                Var v = op.outputs().get(i);
                if (!Arrays.equals(outs.get(i).shape(), v.shape())) {
                    throw new IllegalStateException("evaluation of op '" + op.name() + "' produced " + outs.get(i).shapeString()
                            + " but its type is " + v.type());
                }
                values.put(v.name(), outs.get(i));
            }
            final int at = index;
            values.keySet().removeIf(name -> lastUse.getOrDefault(name, -1) <= at);
        }
        Map<String, FloatTensor> result = new LinkedHashMap<>();
        for (Var o : program.outputs()) {
            result.put(o.name(), values.get(o.name()));
        }
        return result;
    }
}

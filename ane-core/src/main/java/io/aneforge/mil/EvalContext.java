package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Arguments of one op during reference evaluation: FP32 tensors plus the constant view of {@link OpContext}. */
public final class EvalContext extends OpContext {
    private final Function<Arg, FloatTensor> values;
    private final List<TensorType> outputTypes;

    public EvalContext(OpDef def, String opName, Map<String, List<Arg>> inputs, Map<String, Constant> attributes,
                       List<TensorType> outputTypes, Function<Arg, FloatTensor> values) {
        super(def, opName, inputs, attributes);
        this.values = values;
        this.outputTypes = outputTypes;
    }

    public FloatTensor tensor(String param) {
        return values.apply(args(param).get(0));
    }

    public List<FloatTensor> tensors(String param) {
        return args(param).stream().map(values).toList();
    }

    /** An attribute or constant as an FP32 tensor. */
    public FloatTensor constTensor(String param) {
        return constant(param).toFloatTensor();
    }

    public TensorType outputType(int i) {
        return outputTypes.get(i);
    }
}

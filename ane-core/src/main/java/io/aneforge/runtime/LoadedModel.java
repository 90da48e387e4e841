package io.aneforge.runtime;

import io.aneforge.tensor.FloatTensor;
import java.util.Map;

/** A model loaded by a {@link ModelRuntime}, ready for predictions. Not thread-safe. */
public interface LoadedModel extends AutoCloseable {

    /**
     * Runs one prediction. Inputs are keyed by the model's input names; integer inputs
     * (token ids, masks) are passed as exact float values and converted to the declared
     * input type (int32) by the runtime.
     *
     * @return outputs keyed by the model's output names, as FP32
     */
    Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs);

    /** Peak bytes of live intermediate tensors seen so far, or -1 when the runtime cannot tell. */
    default long peakIntermediateBytes() {
        return -1;
    }

    @Override
    void close();
}

package io.aneforge.runtime;

import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;
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

    /**
     * Runs one prediction per input map and returns the outputs in the same order, each the
     * same as {@link #predict} gives for that map. A runtime may run them together (the
     * reference runtime runs each op for every input before the next op, so a weight is read
     * from memory once per op instead of once per prediction; Core ML has batch predictions);
     * this default runs them one after another.
     */
    default List<Map<String, FloatTensor>> predictAll(List<Map<String, FloatTensor>> inputs) {
        List<Map<String, FloatTensor>> out = new ArrayList<>(inputs.size());
        for (Map<String, FloatTensor> in : inputs) {
            out.add(predict(in));
        }
        return out;
    }

    /** Peak bytes of live intermediate tensors seen so far, or -1 when the runtime cannot tell. */
    default long peakIntermediateBytes() {
        return -1;
    }

    @Override
    void close();
}

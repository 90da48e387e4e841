package io.aneforge.source;

/** How a snapshot stores its weights, in order of preference. */
public enum WeightsFormat {
    /** {@code model.safetensors}. */
    SAFETENSORS,
    /** {@code model.safetensors.index.json} plus shards. */
    SHARDED_SAFETENSORS,
    /** {@code onnx/model.onnx} (ONNX-only repos such as Xenova/*). */
    ONNX
}

package io.aneforge.safetensors;

import io.aneforge.tensor.FloatTensor;
import java.io.Closeable;
import java.util.List;

/**
 * Tensor-by-tensor access to a safetensors checkpoint (one file or a sharded set). Nothing is
 * read until a tensor is asked for; not thread-safe for concurrent close.
 */
public interface TensorReader extends Closeable {

    /** Every tensor, in a deterministic order (file order, then shard order). */
    List<TensorInfo> tensors();

    /** Converts F32/F16/BF16/I8/I32/I64 to float32; rejects NaN and infinities. */
    FloatTensor readFloat(String name) throws SafetensorsException;

    @Override
    void close();
}

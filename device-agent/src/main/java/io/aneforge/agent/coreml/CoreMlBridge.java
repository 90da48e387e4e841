package io.aneforge.agent.coreml;

import java.nio.file.Path;
import java.util.Map;

/**
 * The Objective-C calls the Core ML runtime needs, behind the smallest interface that lets
 * everything around them (caching, compute-unit mapping, dtype conversion, strides, error
 * messages) be tested on any host. {@link JnaCoreMlBridge} is the real one; it is written
 * against Apple's documented API and has <b>not yet been run on a Mac</b>.
 */
interface CoreMlBridge {

    /**
     * {@code +[MLModel compileModelAtURL:error:]}: compiles a {@code .mlpackage} into a
     * {@code .mlmodelc} directory in a temporary location Core ML chooses; the caller moves
     * it into its cache.
     *
     * @throws io.aneforge.runtime.RuntimeLoadException with the NSError's message
     */
    Path compile(Path mlpackage);

    /**
     * {@code +[MLModel modelWithContentsOfURL:configuration:error:]} with
     * {@code MLModelConfiguration.computeUnits} set to {@code computeUnits} (an
     * {@code MLComputeUnits} value).
     *
     * @throws io.aneforge.runtime.RuntimeLoadException with the NSError's message
     */
    NativeModel load(Path mlmodelc, long computeUnits);

    /** A loaded {@code MLModel} (retained until {@link #close()}). */
    interface NativeModel extends AutoCloseable {

        /** Multi-array inputs by name with their declared element types. */
        Map<String, MultiArrayDataType> inputTypes();

        /**
         * {@code -[MLModel predictionFromFeatures:error:]}. For each input the bridge allocates an
         * MLMultiArray of the declared type and the tensor's shape and lets {@code encoder} fill
         * its memory; outputs are copied out (with their strides) before the autorelease pool
         * that owns them is drained.
         *
         * @throws CoreMlException with the NSError's message
         */
        Map<String, HostArray> predict(Map<String, int[]> inputShapes, InputEncoder encoder);

        @Override
        void close();
    }

    /** Fills the memory of the MLMultiArray allocated for input {@code name}. */
    @FunctionalInterface
    interface InputEncoder {
        void encode(String name, MultiArrayDataType type, java.nio.ByteBuffer memory, long[] strides);
    }
}

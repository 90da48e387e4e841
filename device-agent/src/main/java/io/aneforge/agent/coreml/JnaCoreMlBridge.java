package io.aneforge.agent.coreml;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import io.aneforge.runtime.RuntimeLoadException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The real {@link CoreMlBridge}: CoreML.framework through {@link Objc}. <b>Written against
 * Apple's documented API, not yet run on a Mac.</b>
 *
 * <p>Memory: every call runs inside its own autorelease pool; objects that must outlive it
 * (the MLModel) are retained and released in {@link NativeModel#close()}. NSErrors are read
 * before their pool is drained. Outputs are copied to the Java heap inside the pool.
 *
 * <p>Known risks to check on the first Mac run: {@code MLMultiArray.dataPointer} is
 * deprecated in favour of the block-based {@code getBytesWithHandler:} (blocks are awkward
 * through JNA); for pixel-buffer-backed Float16 outputs it is documented to still return the
 * base address. {@code compileModelAtURL:error:} is deprecated on macOS 14 in favour of the
 * async variant but still available.
 */
final class JnaCoreMlBridge implements CoreMlBridge {

    /** {@code MLFeatureTypeMultiArray} in MLFeatureType.h. */
    static final long ML_FEATURE_TYPE_MULTI_ARRAY = 5;

    private final Objc objc;

    JnaCoreMlBridge() {
        this.objc = new Objc("Foundation", "CoreML");
        objc.cls("MLModel"); // fail now (isAvailable = false) rather than at the first load
    }

    @Override
    public Path compile(Path mlpackage) {
        Pointer pool = objc.pushPool();
        try {
            PointerByReference error = new PointerByReference();
            Pointer compiled = objc.send(objc.cls("MLModel"), "compileModelAtURL:error:", objc.fileUrl(mlpackage), error);
            if (compiled == null) {
                throw new RuntimeLoadException(NsErrorInfo.describe("compile", mlpackage, objc.error(error.getValue())));
            }
            return Path.of(objc.urlPath(compiled));
        } finally {
            objc.popPool(pool);
        }
    }

    @Override
    public NativeModel load(Path mlmodelc, long computeUnits) {
        Pointer pool = objc.pushPool();
        try {
            Pointer config = objc.send(objc.send(objc.cls("MLModelConfiguration"), "alloc"), "init");
            objc.send(config, "autorelease");
            objc.sendVoid(config, "setComputeUnits:", computeUnits); // NSInteger: must be a Java long
            PointerByReference error = new PointerByReference();
            Pointer model = objc.send(objc.cls("MLModel"), "modelWithContentsOfURL:configuration:error:",
                    objc.fileUrl(mlmodelc), config, error);
            if (model == null) {
                throw new RuntimeLoadException(NsErrorInfo.describe("load", mlmodelc, objc.error(error.getValue())));
            }
            Map<String, MultiArrayDataType> inputs = inputTypes(model, mlmodelc);
            objc.send(model, "retain"); // survives the pool; released in close()
            return new JnaNativeModel(model, inputs, mlmodelc.getFileName().toString());
        } finally {
            objc.popPool(pool);
        }
    }

    private Map<String, MultiArrayDataType> inputTypes(Pointer model, Path mlmodelc) {
        Pointer byName = objc.send(objc.send(model, "modelDescription"), "inputDescriptionsByName");
        Pointer keys = objc.send(byName, "allKeys");
        long n = objc.sendLong(keys, "count");
        Map<String, MultiArrayDataType> types = new LinkedHashMap<>();
        for (long i = 0; i < n; i++) {
            Pointer key = objc.send(keys, "objectAtIndex:", i);
            Pointer description = objc.send(byName, "objectForKey:", key);
            String name = objc.javaString(key);
            long type = objc.sendLong(description, "type");
            if (type != ML_FEATURE_TYPE_MULTI_ARRAY) {
                throw new RuntimeLoadException("model " + mlmodelc + " input '" + name + "' has MLFeatureType " + type
                        + "; the agent feeds multi-array inputs only (5)");
            }
            long dataType = objc.sendLong(objc.send(description, "multiArrayConstraint"), "dataType");
            types.put(name, MultiArrayDataType.fromCode(dataType));
        }
        return types;
    }

    private final class JnaNativeModel implements NativeModel {
        private Pointer model;
        private final Map<String, MultiArrayDataType> inputTypes;
        private final String name;

        JnaNativeModel(Pointer model, Map<String, MultiArrayDataType> inputTypes, String name) {
            this.model = model;
            this.inputTypes = Map.copyOf(inputTypes);
            this.name = name;
        }

        @Override
        public Map<String, MultiArrayDataType> inputTypes() {
            return inputTypes;
        }

        @Override
        public Map<String, HostArray> predict(Map<String, int[]> inputShapes, InputEncoder encoder) {
            if (model == null) {
                throw new IllegalStateException("model " + name + " is closed");
            }
            Pointer pool = objc.pushPool();
            try {
                Pointer features = objc.send(objc.cls("NSMutableDictionary"), "dictionary");
                for (Map.Entry<String, int[]> in : inputShapes.entrySet()) {
                    MultiArrayDataType type = inputTypes.get(in.getKey());
                    PointerByReference error = new PointerByReference();
                    Pointer array = objc.send(objc.send(objc.cls("MLMultiArray"), "alloc"),
                            "initWithShape:dataType:error:", objc.numberArray(in.getValue()), type.code(), error);
                    if (array == null) {
                        throw new CoreMlException(NsErrorInfo.describe("allocate input '" + in.getKey() + "' of", name,
                                objc.error(error.getValue())));
                    }
                    objc.send(array, "autorelease");
                    long[] strides = objc.longs(objc.send(array, "strides"));
                    long span = StridedLayout.byteSpan(in.getValue(), strides, type.elementBytes());
                    ByteBuffer memory = objc.send(array, "dataPointer").getByteBuffer(0, span)
                            .order(ByteOrder.nativeOrder());
                    encoder.encode(in.getKey(), type, memory, strides);
                    Pointer value = objc.send(objc.cls("MLFeatureValue"), "featureValueWithMultiArray:", array);
                    objc.send(features, "setObject:forKey:", value, objc.nsString(in.getKey()));
                }
                PointerByReference error = new PointerByReference();
                Pointer provider = objc.send(objc.send(objc.cls("MLDictionaryFeatureProvider"), "alloc"),
                        "initWithDictionary:error:", features, error);
                if (provider == null) {
                    throw new CoreMlException(NsErrorInfo.describe("wrap the inputs of", name, objc.error(error.getValue())));
                }
                objc.send(provider, "autorelease");
                Pointer result = objc.send(model, "predictionFromFeatures:error:", provider, error);
                if (result == null) {
                    throw new CoreMlException(NsErrorInfo.describe("predict with", name, objc.error(error.getValue())));
                }
                return readOutputs(result);
            } finally {
                objc.popPool(pool);
            }
        }

        private Map<String, HostArray> readOutputs(Pointer result) {
            Pointer names = objc.send(objc.send(result, "featureNames"), "allObjects");
            long n = objc.sendLong(names, "count");
            Map<String, HostArray> out = new LinkedHashMap<>();
            for (long i = 0; i < n; i++) {
                Pointer nsName = objc.send(names, "objectAtIndex:", i);
                String output = objc.javaString(nsName);
                Pointer value = objc.send(result, "featureValueForName:", nsName);
                Pointer array = objc.send(value, "multiArrayValue");
                if (array == null) {
                    throw new CoreMlException("model " + name + " output '" + output + "' has MLFeatureType "
                            + objc.sendLong(value, "type") + "; the agent reads multi-array outputs only (5)");
                }
                MultiArrayDataType type = MultiArrayDataType.fromCode(objc.sendLong(array, "dataType"));
                long[] shapeLongs = objc.longs(objc.send(array, "shape"));
                int[] shape = new int[shapeLongs.length];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = Math.toIntExact(shapeLongs[d]);
                }
                long[] strides = objc.longs(objc.send(array, "strides"));
                long span = StridedLayout.byteSpan(shape, strides, type.elementBytes());
                ByteBuffer copy = ByteBuffer.allocate(Math.toIntExact(span)).order(ByteOrder.nativeOrder());
                copy.put(objc.send(array, "dataPointer").getByteBuffer(0, span)).flip();
                out.put(output, new HostArray(type, shape, strides, copy));
            }
            return out;
        }

        @Override
        public void close() {
            if (model != null) {
                objc.sendVoid(model, "release");
                model = null;
            }
        }
    }
}

package io.aneforge.mlpackage;

import com.google.protobuf.ByteString;
import io.aneforge.mil.Arg;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilException;
import io.aneforge.mil.Names;
import io.aneforge.mil.OpDef;
import io.aneforge.mil.Ops;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.proto.Argument;
import io.aneforge.mlpackage.proto.ArrayFeatureType;
import io.aneforge.mlpackage.proto.Block;
import io.aneforge.mlpackage.proto.DataType;
import io.aneforge.mlpackage.proto.Dimension;
import io.aneforge.mlpackage.proto.FeatureDescription;
import io.aneforge.mlpackage.proto.FeatureType;
import io.aneforge.mlpackage.proto.Function;
import io.aneforge.mlpackage.proto.Metadata;
import io.aneforge.mlpackage.proto.Model;
import io.aneforge.mlpackage.proto.ModelDescription;
import io.aneforge.mlpackage.proto.NamedValueType;
import io.aneforge.mlpackage.proto.TensorValue;
import io.aneforge.mlpackage.proto.Value;
import io.aneforge.mlpackage.proto.ValueType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps a MIL {@link io.aneforge.mil.Program} to the Core ML {@link Model} message and
 * back, per COREML_FORMAT.md section 2 and 4: every op carries attribute {@code name}
 * and full output types; constants of {@value #BLOB_THRESHOLD}+ elements (in {@code const}
 * ops and constexpr ops) go to weight.bin, smaller ones are immediate (fp16, int8,
 * uint8 and sub-byte types as raw {@code bytes}).
 *
 * <p>int16, uint16, int32 and uint32 constants go to weight.bin only from iOS 18 (specification version 9): below it
 * they stay immediate whatever their size, as coremltools writes them ({@code should_use_weight_file} in
 * {@code converters/mil/backend/mil/load.py} adds those four blob dtypes only from iOS 18), since a Core ML older than
 * iOS 18 is not known to read such a blob. The reader refuses such a blob in a package declaring an older target.
 * (Of the four, only int32 reaches an op below iOS 18 here: MPNet's relative position buckets.)
 */
public final class ProgramCodec {
    /** Constants with at least this many elements are written to the weight blob. */
    public static final int BLOB_THRESHOLD = 10;
    /** Blob dtypes coremltools writes to weight.bin only from iOS 18; immediate below it. */
    private static final java.util.Set<DType> BLOB_FROM_IOS18 = java.util.EnumSet.of(DType.INT16, DType.UINT16,
            DType.INT32, DType.UINT32);
    public static final String MAIN = "main";

    private ProgramCodec() {
    }

    // ------------------------------------------------------------------ writing

    public static Model encode(io.aneforge.mil.Program p, BlobWriter blobs) {
        Target t = p.target();
        ModelDescription.Builder desc = ModelDescription.newBuilder();
        for (Var v : p.inputs()) {
            desc.addInput(feature(v, t));
        }
        for (Var v : p.outputs()) {
            desc.addOutput(feature(v, t));
        }
        if (!p.metadata().isEmpty()) {
            desc.setMetadata(Metadata.newBuilder().putAllUserDefined(p.metadata()));
        }
        Block.Builder block = Block.newBuilder();
        for (Var v : p.outputs()) {
            block.addOutputs(v.name());
        }
        for (io.aneforge.mil.Operation op : p.operations()) {
            block.addOperations(encodeOp(op, blobs, t));
        }
        Function.Builder fn = Function.newBuilder().setOpset(t.opset()).putBlockSpecializations(t.opset(), block.build());
        for (Var v : p.inputs()) {
            fn.addInputs(namedType(v));
        }
        io.aneforge.mlpackage.proto.Program program = io.aneforge.mlpackage.proto.Program.newBuilder()
                .setVersion(1).putFunctions(MAIN, fn.build()).build();
        return Model.newBuilder().setSpecificationVersion(t.specificationVersion()).setDescription(desc).setMlProgram(program).build();
    }

    private static FeatureDescription feature(Var v, Target t) {
        ArrayFeatureType.ArrayDataType dt = switch (v.dtype()) {
            case FP32 -> ArrayFeatureType.ArrayDataType.FLOAT32;
            case INT32 -> ArrayFeatureType.ArrayDataType.INT32;
            case FP16 -> {
                if (!t.atLeast(Target.IOS16)) {
                    throw new MlPackageException("fp16 model input/output '" + v.name() + "' needs iOS 16 (spec 7); the program targets " + t.os());
                }
                yield ArrayFeatureType.ArrayDataType.FLOAT16;
            }
            default -> throw new MlPackageException("model input/output '" + v.name() + "' has dtype " + v.dtype().milName()
                    + "; Core ML feature arrays take fp32, fp16 or int32 - add a cast");
        };
        ArrayFeatureType.Builder a = ArrayFeatureType.newBuilder().setDataType(dt);
        for (int d : v.shape()) {
            a.addShape(d);
        }
        return FeatureDescription.newBuilder().setName(v.name()).setType(FeatureType.newBuilder().setMultiArrayType(a)).build();
    }

    private static io.aneforge.mlpackage.proto.Operation encodeOp(io.aneforge.mil.Operation op, BlobWriter blobs, Target t) {
        io.aneforge.mlpackage.proto.Operation.Builder b = io.aneforge.mlpackage.proto.Operation.newBuilder().setType(op.type());
        boolean blobsAllowed = op.type().equals("const") || op.type().startsWith("constexpr_");
        for (Map.Entry<String, List<Arg>> e : op.inputs().entrySet()) {
            Argument.Builder arg = Argument.newBuilder();
            for (Arg a : e.getValue()) {
                if (a instanceof Var v) {
                    arg.addArguments(Argument.Binding.newBuilder().setName(v.name()));
                } else {
                    Constant c = (Constant) a;
                    if (!blobsAllowed && c.elementCount() >= BLOB_THRESHOLD && c.dtype() != DType.STRING) {
                        throw new MlPackageException("op '" + op.name() + "' (" + op.type() + "), argument '" + e.getKey() + "': a constant of "
                                + c.elementCount() + " elements must live in a const op bound by name (Core ML rejects blobs bound to ordinary ops)");
                    }
                    arg.addArguments(Argument.Binding.newBuilder().setValue(value(c, blobs, t)));
                }
            }
            b.putInputs(e.getKey(), arg.build());
        }
        for (Var v : op.outputs()) {
            b.addOutputs(namedType(v));
        }
        b.putAttributes("name", value(Constant.string(op.name()), blobs, t));
        // blobs are laid out in the definition's attribute order (as coremltools does), whatever order the op was built in
        OpDef def = Ops.get(op.type());
        List<String> attrOrder = new ArrayList<>(op.attributes().keySet());
        attrOrder.sort((a, c) -> Integer.compare(attributeIndex(def, a), attributeIndex(def, c)));
        for (String key : attrOrder) {
            b.putAttributes(key, value(op.attributes().get(key), blobs, t));
        }
        return b.build();
    }

    private static NamedValueType namedType(Var v) {
        return NamedValueType.newBuilder().setName(v.name()).setType(valueType(v.type())).build();
    }

    static ValueType valueType(io.aneforge.mil.TensorType t) {
        io.aneforge.mlpackage.proto.TensorType.Builder b = io.aneforge.mlpackage.proto.TensorType.newBuilder()
                .setDataType(DataType.forNumber(t.dtype().protoCode())).setRank(t.rank());
        for (int d : t.shape()) {
            b.addDimensions(Dimension.newBuilder().setConstant(Dimension.ConstantDimension.newBuilder().setSize(d)));
        }
        return ValueType.newBuilder().setTensorType(b).build();
    }

    /**
     * Whether {@code c} goes to weight.bin in a program for {@code target}: {@value #BLOB_THRESHOLD}+ elements of a
     * blob dtype, and for int16/uint16/int32/uint32 a target of iOS 18 or later (see the class comment).
     */
    static boolean inWeightFile(Constant c, Target target) {
        return c.elementCount() >= BLOB_THRESHOLD && c.dtype().blobCode() != 0
                && (target.atLeast(Target.IOS18) || !BLOB_FROM_IOS18.contains(c.dtype()));
    }

    static Value value(Constant c, BlobWriter blobs, Target target) {
        Value.Builder v = Value.newBuilder().setType(valueType(c.type()));
        if (inWeightFile(c, target)) {
            long offset = blobs.add(c);
            return v.setBlobFileValue(Value.BlobFileValue.newBuilder().setFileName(BlobLayout.MODEL_PATH_FILE).setOffset(offset)).build();
        }
        TensorValue.Builder tv = TensorValue.newBuilder();
        switch (c.dtype()) {
            case FP32 -> {
                TensorValue.RepeatedFloats.Builder f = TensorValue.RepeatedFloats.newBuilder();
                for (float x : c.toFloats()) {
                    f.addValues(x);
                }
                tv.setFloats(f);
            }
            case INT32 -> {
                TensorValue.RepeatedInts.Builder f = TensorValue.RepeatedInts.newBuilder();
                for (int x : c.toInts()) {
                    f.addValues(x);
                }
                tv.setInts(f);
            }
            case BOOL -> {
                TensorValue.RepeatedBools.Builder f = TensorValue.RepeatedBools.newBuilder();
                for (boolean x : c.toBools()) {
                    f.addValues(x);
                }
                tv.setBools(f);
            }
            case STRING -> tv.setStrings(TensorValue.RepeatedStrings.newBuilder().addAllValues(c.strings()));
            case INT64, UINT64 -> {
                TensorValue.RepeatedLongInts.Builder f = TensorValue.RepeatedLongInts.newBuilder();
                for (int i = 0; i < c.elementCount(); i++) {
                    f.addValues(c.longAt(i));
                }
                tv.setLongInts(f);
            }
            case FP64 -> {
                TensorValue.RepeatedDoubles.Builder f = TensorValue.RepeatedDoubles.newBuilder();
                for (int i = 0; i < c.elementCount(); i++) {
                    f.addValues(c.floatAt(i));
                }
                tv.setDoubles(f);
            }
            default -> tv.setBytes(TensorValue.RepeatedBytes.newBuilder().setValues(ByteString.copyFrom(c.raw())));
        }
        return v.setImmediateValue(Value.ImmediateValue.newBuilder().setTensor(tv)).build();
    }

    // ------------------------------------------------------------------ reading

    /** Rebuilds the program; {@code blobs} may be null when the package has no weight file. */
    public static io.aneforge.mil.Program decode(Model m, BlobReader blobs) {
        if (!m.hasMlProgram()) {
            throw new MlPackageException("model.mlmodel is not an ML Program (no mlProgram field); only ML Programs are supported");
        }
        Target specTarget = Target.fromSpecificationVersion((int) m.getSpecificationVersion());
        io.aneforge.mlpackage.proto.Program prog = m.getMlProgram();
        if (prog.getVersion() != 1) {
            throw new MlPackageException("mlProgram.version is " + prog.getVersion() + "; only version 1 exists");
        }
        Function fn = prog.getFunctionsMap().get(MAIN);
        if (fn == null) {
            throw new MlPackageException("mlProgram has no function 'main' (functions: " + prog.getFunctionsMap().keySet() + ")");
        }
        Target target = Target.fromOpset(fn.getOpset());
        Block block = fn.getBlockSpecializationsMap().get(fn.getOpset());
        if (block == null || fn.getBlockSpecializationsCount() != 1) {
            throw new MlPackageException("function 'main' declares opset " + fn.getOpset() + " but its block specializations are keyed "
                    + fn.getBlockSpecializationsMap().keySet() + "; the key must equal the opset");
        }
        if (target.specificationVersion() > specTarget.specificationVersion()) {
            throw new MlPackageException("opset " + fn.getOpset() + " needs specificationVersion >= " + target.specificationVersion()
                    + " but the model declares " + m.getSpecificationVersion());
        }
        Map<String, Var> vars = new HashMap<>();
        List<Var> inputs = new ArrayList<>();
        for (NamedValueType nv : fn.getInputsList()) {
            Var v = new Var(nv.getName(), tensorType(nv.getType(), "function input '" + nv.getName() + "'"));
            inputs.add(v);
            vars.put(v.name(), v);
        }
        List<io.aneforge.mil.Operation> ops = new ArrayList<>();
        int index = 0;
        for (io.aneforge.mlpackage.proto.Operation op : block.getOperationsList()) {
            ops.add(decodeOp(op, index++, vars, blobs, specTarget));
        }
        List<Var> outputs = new ArrayList<>();
        for (String o : block.getOutputsList()) {
            Var v = vars.get(o);
            if (v == null) {
                throw new MlPackageException("block output '" + o + "' is not produced by any op");
            }
            outputs.add(v);
        }
        checkFeatures("input", m.getDescription().getInputList(), inputs);
        checkFeatures("output", m.getDescription().getOutputList(), outputs);
        Map<String, String> meta = m.getDescription().hasMetadata() ? m.getDescription().getMetadata().getUserDefinedMap() : Map.of();
        return new io.aneforge.mil.Program(target, inputs, ops, outputs, new java.util.TreeMap<>(meta));
    }

    private static void checkFeatures(String what, List<FeatureDescription> features, List<Var> vars) {
        List<String> names = features.stream().map(FeatureDescription::getName).toList();
        List<String> expected = vars.stream().map(Var::name).toList();
        if (!names.equals(expected)) {
            throw new MlPackageException("model description " + what + "s " + names + " do not match the main function's " + what + "s " + expected);
        }
        for (int i = 0; i < features.size(); i++) {
            FeatureType ft = features.get(i).getType();
            if (ft.hasMultiArrayType()) {
                // compared as longs: narrowing first would let a shape of 2^32 + 16 pass as 16
                long[] shape = ft.getMultiArrayType().getShapeList().stream().mapToLong(Long::longValue).toArray();
                long[] declared = Arrays.stream(vars.get(i).shape()).asLongStream().toArray();
                if (!Arrays.equals(shape, declared)) {
                    throw new MlPackageException("model description " + what + " '" + names.get(i) + "' has shape " + Arrays.toString(shape)
                            + " but the program's var has " + vars.get(i).type());
                }
            }
        }
    }

    private static io.aneforge.mil.Operation decodeOp(io.aneforge.mlpackage.proto.Operation op, int index, Map<String, Var> vars,
                                                      BlobReader blobs, Target specTarget) {
        Value nameValue = op.getAttributesMap().get("name");
        String where = "op #" + index + " (" + op.getType() + ")";
        if (nameValue == null) {
            throw new MlPackageException(where + " has no 'name' attribute; every op must carry one");
        }
        String name = decodeValue(nameValue, blobs, specTarget, where + ", attribute 'name'").stringValue();
        where = "op '" + name + "' (" + op.getType() + ")";
        OpDef def;
        try {
            def = Ops.get(op.getType());
        } catch (MilException e) {
            throw new MlPackageException(where + ": " + e.getMessage(), e);
        }
        if (op.getBlocksCount() > 0) {
            throw new MlPackageException(where + " has nested blocks; control flow is not supported");
        }
        Map<String, List<Arg>> inputs = new LinkedHashMap<>();
        // keep the definition's parameter order, then any unknown ones (the validator names them)
        List<String> keys = new ArrayList<>(op.getInputsMap().keySet());
        keys.sort((a, b) -> Integer.compare(paramIndex(def, a), paramIndex(def, b)));
        for (String key : keys) {
            List<Arg> args = new ArrayList<>();
            for (Argument.Binding binding : op.getInputsMap().get(key).getArgumentsList()) {
                if (binding.hasValue()) {
                    args.add(decodeValue(binding.getValue(), blobs, specTarget, where + ", argument '" + key + "'"));
                } else {
                    Var v = vars.get(binding.getName());
                    if (v == null) {
                        throw new MlPackageException(where + ", argument '" + key + "': var '" + binding.getName()
                                + "' is not defined before this op");
                    }
                    args.add(v);
                }
            }
            inputs.put(key, args);
        }
        Map<String, Constant> attributes = new LinkedHashMap<>();
        List<String> attrKeys = new ArrayList<>(op.getAttributesMap().keySet());
        attrKeys.remove("name");
        attrKeys.sort((a, c) -> Integer.compare(attributeIndex(def, a), attributeIndex(def, c)));
        for (String key : attrKeys) {
            attributes.put(key, decodeValue(op.getAttributesMap().get(key), blobs, specTarget, where + ", attribute '" + key + "'"));
        }
        List<Var> outs = new ArrayList<>();
        for (NamedValueType nv : op.getOutputsList()) {
            Constant cv = op.getType().equals("const") ? attributes.get("val") : null;
            io.aneforge.mil.TensorType t = tensorType(nv.getType(), where + ", output '" + nv.getName() + "'");
            if (cv != null && !cv.type().equals(t)) {
                throw new MlPackageException(where + ": output '" + nv.getName() + "' is declared " + t + " but its value is " + cv.type());
            }
            Var v = new Var(nv.getName(), t, cv, op.getType().startsWith("constexpr_"));
            if (vars.put(v.name(), v) != null) {
                throw new MlPackageException(where + ": output '" + v.name() + "' redefines an existing var");
            }
            outs.add(v);
        }
        return new io.aneforge.mil.Operation(op.getType(), Names.isIdentifier(name) ? name : Names.sanitize(name), inputs, attributes, outs);
    }

    private static int attributeIndex(OpDef def, String name) {
        for (int i = 0; i < def.attributes().size(); i++) {
            if (def.attributes().get(i).name().equals(name)) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    private static int paramIndex(OpDef def, String name) {
        for (int i = 0; i < def.inputs().size(); i++) {
            if (def.inputs().get(i).name().equals(name)) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    static io.aneforge.mil.TensorType tensorType(ValueType vt, String where) {
        if (!vt.hasTensorType()) {
            throw new MlPackageException(where + ": only tensor types are supported, got " + vt.getTypeCase());
        }
        io.aneforge.mlpackage.proto.TensorType t = vt.getTensorType();
        DType dtype;
        try {
            dtype = DType.fromProtoCode(t.getDataTypeValue());
        } catch (MilException e) {
            throw new MlPackageException(where + ": " + e.getMessage(), e);
        }
        if (t.getRank() != t.getDimensionsCount()) {
            throw new MlPackageException(where + ": rank " + t.getRank() + " but " + t.getDimensionsCount() + " dimensions");
        }
        int[] shape = new int[t.getDimensionsCount()];
        for (int i = 0; i < shape.length; i++) {
            Dimension d = t.getDimensions(i);
            if (!d.hasConstant()) {
                throw new MlPackageException(where + ": dimension " + i + " is not a constant; only static shapes are supported");
            }
            long size = d.getConstant().getSize(); // a uint64 in the proto
            if (Long.compareUnsigned(size, Integer.MAX_VALUE) > 0) {
                throw new MlPackageException(where + ": dimension " + i + " is " + Long.toUnsignedString(size)
                        + ", more than the largest dimension, " + Integer.MAX_VALUE);
            }
            shape[i] = (int) size;
        }
        try {
            return new io.aneforge.mil.TensorType(dtype, shape);
        } catch (MilException e) {
            throw new MlPackageException(where + ": " + e.getMessage(), e);
        }
    }

    static Constant decodeValue(Value v, BlobReader blobs, Target specTarget, String where) {
        io.aneforge.mil.TensorType type = tensorType(v.getType(), where);
        if (v.hasBlobFileValue()) {
            Value.BlobFileValue b = v.getBlobFileValue();
            if (BLOB_FROM_IOS18.contains(type.dtype()) && !specTarget.atLeast(Target.IOS18)) {
                throw new MlPackageException(where + ": " + type.dtype().milName() + " data stored in weight.bin needs"
                        + " iOS 18 (specificationVersion " + Target.IOS18.specificationVersion() + "), but the model declares "
                        + specTarget.specificationVersion() + " (" + specTarget.os() + "): before iOS 18, int16, uint16,"
                        + " int32 and uint32 constants are immediate values in model.mlmodel (coremltools writes them so, and"
                        + " so does this converter): convert the model again with this converter, or target iOS 18");
            }
            if (!b.getFileName().equals(BlobLayout.MODEL_PATH_FILE)) {
                throw new MlPackageException(where + ": blob file '" + b.getFileName() + "' is not " + BlobLayout.MODEL_PATH_FILE);
            }
            if (blobs == null) {
                throw new MlPackageException(where + ": refers to weight.bin but the package has no weight file");
            }
            return blobs.read(b.getOffset(), type, where);
        }
        if (!v.hasImmediateValue() || !v.getImmediateValue().hasTensor()) {
            throw new MlPackageException(where + ": value is neither an immediate tensor nor a blob");
        }
        TensorValue tv = v.getImmediateValue().getTensor();
        int n = Math.toIntExact(type.elementCount());
        try {
            return switch (tv.getValueCase()) {
                case FLOATS -> {
                    float[] f = new float[tv.getFloats().getValuesCount()];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = tv.getFloats().getValues(i);
                    }
                    requireCount(where, f.length, n);
                    yield Constant.floats(type.dtype(), f, type.shape());
                }
                case INTS -> {
                    int[] a = tv.getInts().getValuesList().stream().mapToInt(Integer::intValue).toArray();
                    requireCount(where, a.length, n);
                    yield Constant.integers(type.dtype(), a, type.shape());
                }
                case BOOLS -> {
                    byte[] raw = new byte[tv.getBools().getValuesCount()];
                    for (int i = 0; i < raw.length; i++) {
                        raw[i] = (byte) (tv.getBools().getValues(i) ? 1 : 0);
                    }
                    requireCount(where, raw.length, n);
                    yield Constant.ofRaw(type, raw);
                }
                case STRINGS -> Constant.ofStrings(type.shape(), tv.getStrings().getValuesList());
                case BYTES -> Constant.ofRaw(type, tv.getBytes().getValues().toByteArray());
                case LONGINTS -> {
                    java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(8 * tv.getLongInts().getValuesCount()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    tv.getLongInts().getValuesList().forEach(bb::putLong);
                    yield Constant.ofRaw(type, bb.array());
                }
                case DOUBLES -> {
                    java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(8 * tv.getDoubles().getValuesCount()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    tv.getDoubles().getValuesList().forEach(bb::putDouble);
                    yield Constant.ofRaw(type, bb.array());
                }
                default -> throw new MlPackageException(where + ": immediate tensor has no values");
            };
        } catch (MilException e) {
            throw new MlPackageException(where + ": " + e.getMessage(), e);
        }
    }

    private static void requireCount(String where, int got, int need) {
        if (got != need) {
            throw new MlPackageException(where + ": immediate value has " + got + " elements but its type needs " + need);
        }
    }
}

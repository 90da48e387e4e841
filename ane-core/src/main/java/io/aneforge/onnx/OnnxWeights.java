package io.aneforge.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.aneforge.onnx.proto.GraphProto;
import io.aneforge.onnx.proto.ModelProto;
import io.aneforge.onnx.proto.NodeProto;
import io.aneforge.onnx.proto.TensorProto;
import io.aneforge.kernels.Parallel;
import io.aneforge.tensor.FloatTensor;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the weights of an exported transformer ({@code onnx/model.onnx}) back into Hub names.
 *
 * <p>Export keeps biases, norms and embeddings under their module names. Linear weights become
 * anonymous {@code onnx::MatMul_N} initializers stored {@code [in, out]}; the MatMul that consumes
 * one is named after the module ({@code /encoder/layer.0/attention/self/query/MatMul}), which gives
 * back {@code encoder.layer.0.attention.self.query.weight}, transposed to {@code [out, in]}.
 *
 * <p>A name says nothing about a matrix's layout, so every 2-D initializer, named or not, is read in
 * the layout its consumers give it: the right-hand operand of {@code MatMul} is {@code [in, out]}
 * (transposed on import), {@code Gemm}'s {@code B} is {@code [out, in]} with {@code transB = 1} and
 * {@code [in, out]} without, a {@code Transpose} flips what its own consumers say, and a table read
 * by {@code Gather}, {@code Slice} or element-wise ops keeps its rows. Consumers that disagree, and
 * anything else that carries weights, are an unknown layout and are refused rather than guessed.
 */
public final class OnnxWeights {
    /** protobuf-java parses from one byte array; larger models use external data anyway. */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;
    private static final Pattern HUB_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)*");
    private static final Pattern MODULE_SEGMENT = Pattern.compile("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");

    private OnnxWeights() {
    }

    public static Map<String, FloatTensor> read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new OnnxFormatException(file, "model is " + size + " bytes; models over 2 GB use external data,"
                    + " which is not supported: use the safetensors revision");
        }
        ModelProto model;
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ)) {
            // Mapped, not read: a read(2) copies the whole file (90 MB for all-MiniLM-L6-v2) from the page cache
            // into a fresh, zeroed array (3 % of a default convert's CPU), where the mapping lends the page
            // cache's own pages. Aliasing: the initializers' raw_data stay views of those bytes, copied once,
            // into floats, by decode below (unsafeWrap: the mapping is read-only, which makes aliasing safe).
            // The mapping goes when the last view is collected; nothing of it outlives this call but floats.
            java.nio.MappedByteBuffer bytes = channel.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, size);
            com.google.protobuf.CodedInputStream in = com.google.protobuf.UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
            in.enableAliasing(true);
            model = ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxFormatException(file, "not a valid ONNX protobuf (truncated or corrupt): " + e.getMessage());
        }
        if (!model.hasGraph() || model.getGraph().getInitializerCount() == 0) {
            throw new OnnxFormatException(file, "model has no graph initializers (no weights to import)");
        }
        GraphProto graph = model.getGraph();
        Map<String, List<NodeProto>> consumers = new HashMap<>();
        for (NodeProto node : graph.getNodeList()) {
            for (String input : new java.util.LinkedHashSet<>(node.getInputList())) {
                consumers.computeIfAbsent(input, k -> new ArrayList<>()).add(node);
            }
        }
        // First every structural check, in initializer order (so the first problem in the file is the one
        // reported); then the decoding, the bulk of an import, on every kernel thread; then the map, in order.
        List<Decode> decodes = new ArrayList<>();
        Map<String, String> sourceOf = new HashMap<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (TensorProto init : graph.getInitializerList()) {
            String name = init.getName();
            if (!seen.add(name)) {
                throw new OnnxFormatException(file, "initializer '" + name + "' is defined twice");
            }
            if (init.getDataLocation() == TensorProto.DataLocation.EXTERNAL || init.getExternalDataCount() > 0) {
                throw new OnnxFormatException(file, "initializer '" + name + "' uses external data, which is not"
                        + " supported: use a single-file ONNX export or the safetensors revision");
            }
            boolean anonymous = name.startsWith("onnx::") || !HUB_NAME.matcher(name).matches();
            List<NodeProto> users = consumers.getOrDefault(name, List.of());
            int type = init.getDataType();
            if (type != TensorProto.DataType.FLOAT_VALUE && type != TensorProto.DataType.FLOAT16_VALUE) {
                // Integer initializers are index buffers (position_ids) or shape constants, not weights: skipped,
                // unless the name or a consumer says weight (a weight left out would be reported as missing,
                // which blames config.json instead of the dtype).
                boolean integer = type == TensorProto.DataType.INT64_VALUE || type == TensorProto.DataType.INT32_VALUE
                        || type == TensorProto.DataType.BOOL_VALUE;
                if (integer && (anonymous || !(name.endsWith(".weight") || name.endsWith(".bias")))
                        && users.stream().noneMatch(n -> readsAsWeight(n, name))) {
                    continue;
                }
                throw new OnnxFormatException(file, "initializer '" + name + "' has dtype " + typeName(type)
                        + (integer || isInteger(type) ? ", which is not a floating-point weight" : ", which is not supported")
                        + " (supported weights: FLOAT (1), FLOAT16 (10)): use an FP32 or FP16 export, or the safetensors"
                        + " revision");
            }
            int[] shape = shape(file, init);
            if (!anonymous) {
                claim(file, sourceOf, name, name);
                boolean transposed = shape.length == 2 && layout(file, name, shape, name, users, consumers, 0, true)
                        == Layout.IN_OUT;
                decodes.add(new Decode(name, init, shape, transposed));
                continue;
            }
            if (shape.length <= 1 && product(shape) <= 1) {
                continue; // scalar graph constants (eps, scale) folded into initializers
            }
            NodeProto user = users.size() == 1 ? users.get(0) : null;
            if (user == null || !(user.getOpType().equals("MatMul") || user.getOpType().equals("Gemm"))
                    || shape.length != 2 || user.getInputCount() < 2 || !user.getInput(1).equals(name)
                    || user.getInput(0).equals(name)) {
                throw new OnnxFormatException(file, "unknown layout: initializer '" + name + "' "
                        + java.util.Arrays.toString(shape) + " is consumed by " + describe(users)
                        + "; only named initializers and MatMul/Gemm right-hand weights can be mapped to Hub names");
            }
            String module = modulePath(file, name, user);
            claim(file, sourceOf, module + ".weight", name);
            decodes.add(new Decode(module + ".weight", init, shape,
                    layout(file, name, shape, name, users, consumers, 0, false) == Layout.IN_OUT));
        }
        FloatTensor[] tensors = new FloatTensor[decodes.size()];
        OnnxFormatException[] failures = new OnnxFormatException[decodes.size()];
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        // One range per kernel thread, each taking the next initializer: sizes range from 1 to 12 million floats.
        Parallel.forRange(Parallel.threads(), 1, (from, to) -> {
            for (int i = next.getAndIncrement(); i < tensors.length; i = next.getAndIncrement()) {
                Decode d = decodes.get(i);
                try {
                    tensors[i] = decode(file, d.init(), d.shape(), d.transposed());
                } catch (OnnxFormatException e) {
                    failures[i] = e;
                }
            }
        });
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (int i = 0; i < tensors.length; i++) {
            if (failures[i] != null) {
                throw failures[i];
            }
            out.put(decodes.get(i).hubName(), tensors[i]);
        }
        return out;
    }

    /** One initializer to decode, under its Hub name, transposed from ONNX's {@code [in, out]} when a MatMul weight. */
    private record Decode(String hubName, TensorProto init, int[] shape, boolean transposed) {
    }

    /** How the consumers of a 2-D initializer read it. */
    private enum Layout {
        /** Rows as stored: a Hub {@code [out, in]} projection or a table ({@code Gather}, element-wise ops). */
        AS_STORED,
        /** {@code [in, out]}: the right-hand operand of a matrix product; transposed on import. */
        IN_OUT
    }

    /** Ops that read a 2-D operand row by row, as stored: tables and rows added to activations. */
    private static final java.util.Set<String> ROW_OPS = java.util.Set.of("Add", "Sub", "Mul", "Div");

    /**
     * The layout every consumer of {@code value} (the initializer {@code initializer}, or what an {@code Identity},
     * a float {@code Cast} or, at {@code depth} 0, a {@code Transpose} makes of it) gives a 2-D matrix. Consumers
     * that disagree are refused. A consumer whose layout is unknown is refused for an anonymous initializer; a
     * {@code named} one (a Hub name) keeps the Hub's {@code [out, in]} unless a consumer that knows says otherwise,
     * as before consumers were read (PyTorch exports put Identity, Reshape, Unsqueeze… before tied weights).
     */
    private static Layout layout(Path file, String initializer, int[] shape, String value, List<NodeProto> users,
                                 Map<String, List<NodeProto>> consumers, int depth, boolean named) throws OnnxFormatException {
        Layout l = evidence(file, initializer, shape, value, users, consumers, depth, named);
        return l == null ? Layout.AS_STORED : l;
    }

    /** {@link #layout}, or null when no consumer says. */
    private static Layout evidence(Path file, String initializer, int[] shape, String value, List<NodeProto> users,
                                   Map<String, List<NodeProto>> consumers, int depth, boolean named) throws OnnxFormatException {
        Layout agreed = null;
        for (NodeProto n : users) {
            for (int i = 0; i < n.getInputCount(); i++) {
                if (!n.getInput(i).equals(value)) {
                    continue;
                }
                // the same matrix under another name (or transposed): its consumers decide, or none of them says
                boolean relay = n.getOutputCount() == 1 && (n.getOpType().equals("Identity")
                        || n.getOpType().equals("Cast") && isFloatCast(n)
                        || n.getOpType().equals("Transpose") && depth == 0 && isTwoDimensionalSwap(n));
                List<NodeProto> next = relay ? consumers.getOrDefault(n.getOutput(0), List.of()) : List.of();
                Layout l = switch (n.getOpType()) {
                    case "MatMul" -> i == 1 ? Layout.IN_OUT : null;
                    case "Gemm" -> i == 1 ? gemmLayout(file, initializer, n) : i == 2 ? Layout.AS_STORED : null;
                    case "Gather", "Slice" -> i == 0 ? Layout.AS_STORED : null;
                    case "Transpose" -> relay
                            ? flip(evidence(file, initializer, shape, n.getOutput(0), next, consumers, depth + 1, named))
                            : null;
                    case "Identity", "Cast" -> relay
                            ? evidence(file, initializer, shape, n.getOutput(0), next, consumers, depth, named)
                            : null;
                    default -> ROW_OPS.contains(n.getOpType()) ? Layout.AS_STORED : null;
                };
                if (l == null && !relay) {
                    if (named) {
                        continue; // no evidence: the Hub name's layout stands
                    }
                    throw new OnnxFormatException(file, "unknown layout: initializer '" + initializer + "' "
                            + java.util.Arrays.toString(shape) + " is consumed by " + n.getOpType() + " '" + n.getName()
                            + "' as input " + i + "; only MatMul/Gemm right-hand weights (also through a Transpose,"
                            + " Identity or float Cast), Gather/Slice tables and element-wise operands have a known layout");
                }
                if (l == null) {
                    continue; // a pass-through whose consumers do not say
                }
                if (agreed != null && agreed != l) {
                    throw new OnnxFormatException(file, "unknown layout: initializer '" + initializer + "' "
                            + java.util.Arrays.toString(shape) + " is read both as [in, out] and as [out, in] by "
                            + describe(users));
                }
                agreed = l;
            }
        }
        return agreed;
    }

    /** A {@code Cast} to FLOAT, FLOAT16, DOUBLE or BFLOAT16. */
    private static boolean isFloatCast(NodeProto cast) {
        io.aneforge.onnx.proto.AttributeProto to = attribute(cast, "to");
        return to != null && java.util.Set.of((long) TensorProto.DataType.FLOAT_VALUE, (long) TensorProto.DataType.FLOAT16_VALUE,
                (long) TensorProto.DataType.DOUBLE_VALUE, (long) TensorProto.DataType.BFLOAT16_VALUE).contains(to.getI());
    }

    private static Layout flip(Layout l) {
        return l == null ? null : l == Layout.IN_OUT ? Layout.AS_STORED : Layout.IN_OUT;
    }

    /** {@code Gemm}'s {@code B}: {@code [out, in]} with {@code transB = 1}; alpha and beta must be 1 (else the weights are scaled). */
    private static Layout gemmLayout(Path file, String initializer, NodeProto gemm) throws OnnxFormatException {
        for (String scale : List.of("alpha", "beta")) {
            io.aneforge.onnx.proto.AttributeProto a = attribute(gemm, scale);
            if (a != null && a.getF() != 1f) {
                throw new OnnxFormatException(file, "unknown layout: Gemm '" + gemm.getName() + "' consuming '"
                        + initializer + "' has " + scale + " = " + a.getF() + " (only 1 is imported)");
            }
        }
        io.aneforge.onnx.proto.AttributeProto transB = attribute(gemm, "transB");
        return transB != null && transB.getI() != 0 ? Layout.AS_STORED : Layout.IN_OUT;
    }

    /** A {@code Transpose} of a matrix: no {@code perm} (reverses the axes) or {@code perm = [1, 0]}. */
    private static boolean isTwoDimensionalSwap(NodeProto transpose) {
        io.aneforge.onnx.proto.AttributeProto perm = attribute(transpose, "perm");
        return perm == null || perm.getIntsList().equals(List.of(1L, 0L));
    }

    private static io.aneforge.onnx.proto.AttributeProto attribute(NodeProto node, String name) {
        for (io.aneforge.onnx.proto.AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    /** True when {@code node} reads {@code initializer} as weights: a matrix operand or a Gather table. */
    private static boolean readsAsWeight(NodeProto node, String initializer) {
        for (int i = 0; i < node.getInputCount(); i++) {
            if (node.getInput(i).equals(initializer)) {
                String op = node.getOpType();
                if ((op.equals("MatMul") || op.equals("Gemm")) && i <= 1 || op.equals("Gather") && i == 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isInteger(int type) {
        return type == TensorProto.DataType.INT8_VALUE || type == TensorProto.DataType.UINT8_VALUE
                || type == TensorProto.DataType.INT16_VALUE || type == TensorProto.DataType.UINT16_VALUE
                || type == TensorProto.DataType.UINT32_VALUE || type == TensorProto.DataType.UINT64_VALUE;
    }

    /** {@code INT32 (6)}; the number alone for a type this trimmed schema does not name. */
    private static String typeName(int type) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(type);
        return t == null || t == TensorProto.DataType.UNRECOGNIZED ? String.valueOf(type) : t.name() + " (" + type + ")";
    }

    private static void claim(Path file, Map<String, String> sourceOf, String hubName, String initializer)
            throws OnnxFormatException {
        String previous = sourceOf.putIfAbsent(hubName, initializer);
        if (previous != null) {
            throw new OnnxFormatException(file, "initializers '" + previous + "' and '" + initializer
                    + "' both map to '" + hubName + "'");
        }
    }

    /** {@code /encoder/layer.0/attention/self/query/MatMul} to {@code encoder.layer.0.attention.self.query}. */
    private static String modulePath(Path file, String initializer, NodeProto node) throws OnnxFormatException {
        String nodeName = node.getName();
        String[] parts = nodeName.startsWith("/") ? nodeName.substring(1).split("/") : new String[0];
        if (parts.length < 2) {
            throw new OnnxFormatException(file, "unknown layout: MatMul node '" + nodeName + "' consuming '"
                    + initializer + "' has no module path (expected /module/path/MatMul)");
        }
        StringBuilder module = new StringBuilder();
        for (int i = 0; i < parts.length - 1; i++) {
            if (!MODULE_SEGMENT.matcher(parts[i]).matches()) {
                throw new OnnxFormatException(file, "unknown layout: MatMul node '" + nodeName
                        + "' has an invalid module path segment '" + parts[i] + "'");
            }
            module.append(i == 0 ? "" : ".").append(parts[i]);
        }
        return module.toString();
    }

    private static String describe(List<NodeProto> users) {
        if (users.isEmpty()) {
            return "no node";
        }
        List<String> d = new ArrayList<>();
        for (NodeProto n : users) {
            d.add(n.getOpType() + " '" + n.getName() + "'");
        }
        return d.toString();
    }

    private static int[] shape(Path file, TensorProto init) throws OnnxFormatException {
        int[] shape = new int[init.getDimsCount()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = init.getDims(i);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new OnnxFormatException(file, "initializer '" + init.getName() + "' has invalid dimension " + d);
            }
            shape[i] = (int) d;
            count *= d;
            if (count > Integer.MAX_VALUE - 8) {
                throw new OnnxFormatException(file, "initializer '" + init.getName() + "' dims " + init.getDimsList()
                        + " exceed 2^31 elements (huge dimensions)");
            }
        }
        return shape;
    }

    private static long product(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** The initializer's floats, {@code [cols, rows]} when {@code transposed} (a MatMul weight stored {@code [rows, cols]}). */
    private static FloatTensor decode(Path file, TensorProto init, int[] shape, boolean transposed) throws OnnxFormatException {
        int count = (int) product(shape);
        boolean half = init.getDataType() == TensorProto.DataType.FLOAT16_VALUE;
        ByteString raw = init.getRawData();
        if (!raw.isEmpty()) {
            long expected = (long) count * (half ? 2 : 4);
            if (raw.size() != expected) {
                throw new OnnxFormatException(file, "initializer '" + init.getName() + "' raw_data has " + raw.size()
                        + " bytes but dims " + init.getDimsList() + " need " + expected);
            }
            // A view from the buffer's position: raw_data aliases the file's bytes, so index 0 of the buffer
            // is the start of the file, not of this tensor (views start at the position).
            var buf = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (!half && transposed) {
                return decodeTransposed(file, init, buf.asFloatBuffer(), shape[0], shape[1]);
            }
            float[] data = new float[count];
            if (half) {
                short[] halves = new short[count];
                buf.asShortBuffer().get(halves); // one bulk copy out of the mapped file, then per element in the heap
                for (int i = 0; i < count; i++) {
                    data[i] = halfToFloat(halves[i]);
                }
            } else {
                buf.asFloatBuffer().get(data);
            }
            return finished(file, init, shape, data, transposed);
        } else if (!half && init.getFloatDataCount() == count) {
            float[] data = new float[count];
            for (int i = 0; i < count; i++) {
                data[i] = init.getFloatData(i);
            }
            return finished(file, init, shape, data, transposed);
        } else if (half && init.getInt32DataCount() == count) {
            // onnx.proto: FLOAT16 without raw_data keeps each value's 16-bit pattern in int32_data
            float[] data = new float[count];
            for (int i = 0; i < count; i++) {
                int bits = init.getInt32Data(i);
                if (bits < 0 || bits > 0xFFFF) {
                    throw new OnnxFormatException(file, "initializer '" + init.getName() + "' int32_data element " + i
                            + " = " + bits + " is not a 16-bit FLOAT16 bit pattern");
                }
                data[i] = halfToFloat((short) bits);
            }
            return finished(file, init, shape, data, transposed);
        } else {
            throw new OnnxFormatException(file, "initializer '" + init.getName() + "' holds "
                    + (half ? init.getInt32DataCount() + " values in int32_data (where FLOAT16 without raw_data keeps"
                    + " them)" : init.getFloatDataCount() + " values in float_data") + " but dims " + init.getDimsList()
                    + " need " + count);
        }
    }

    private static FloatTensor finished(Path file, TensorProto init, int[] shape, float[] data, boolean transposed)
            throws OnnxFormatException {
        checkFinite(file, init, data, 0, data.length, 0);
        FloatTensor t = new FloatTensor(shape, data);
        return transposed ? transpose(t) : t;
    }

    /** Rejects a NaN or infinity in {@code data[from, to)}, naming its element index in the initializer ({@code base + i − from}). */
    private static void checkFinite(Path file, TensorProto init, float[] data, int from, int to, long base)
            throws OnnxFormatException {
        // an all-ones exponent (NaN, infinity) plus one exponent step carries into the sign bit: one test per array
        int carry = 0;
        for (int i = from; i < to; i++) {
            carry |= (Float.floatToRawIntBits(data[i]) & 0x7f80_0000) + 0x0080_0000;
        }
        if (carry >= 0) {
            return;
        }
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(data[i])) {
                throw new OnnxFormatException(file, "initializer '" + init.getName() + "' element " + (base + i - from)
                        + " is " + data[i] + ": NaN and infinite weights are rejected");
            }
        }
    }

    /** Source rows per step of {@link #transpose} and {@link #decodeTransposed}. */
    private static final int ROWS = 8;

    /**
     * {@code [rows, cols]} to {@code [cols, rows]}, {@link #ROWS} source rows at a time: their elements of one
     * column land side by side, and the eight rows are read as sequential streams. The 32 × 32 tiles this
     * replaced took twice as long for MiniLM's shapes (1.0 vs 0.55 ns per float on a Zen 4): reading 32 rows
     * 1.5–6 KiB apart conflicts in L1 sets.
     */
    static FloatTensor transpose(FloatTensor t) {
        int rows = t.shape()[0];
        int cols = t.shape()[1];
        float[] dst = new float[t.size()];
        for (int r0 = 0; r0 < rows; r0 += ROWS) {
            scatterRows(t.data(), r0 * cols, cols, Math.min(ROWS, rows - r0), dst, r0, rows);
        }
        return new FloatTensor(new int[] {cols, rows}, dst);
    }

    /**
     * A MatMul weight's raw floats straight into {@code [cols, rows]}: {@link #ROWS} rows at a time into a
     * scratch array (a bulk copy), checked, then placed as {@link #transpose} places them, so the untransposed
     * tensor is never allocated.
     */
    private static FloatTensor decodeTransposed(Path file, TensorProto init, java.nio.FloatBuffer src, int rows, int cols)
            throws OnnxFormatException {
        float[] dst = new float[rows * cols];
        float[] scratch = new float[ROWS * cols];
        for (int r0 = 0; r0 < rows; r0 += ROWS) {
            int n = Math.min(ROWS, rows - r0);
            src.get(r0 * cols, scratch, 0, n * cols);
            checkFinite(file, init, scratch, 0, n * cols, (long) r0 * cols);
            scatterRows(scratch, 0, cols, n, dst, r0, rows);
        }
        return new FloatTensor(new int[] {cols, rows}, dst);
    }

    /** {@code dst[c·ld + r0 + i] = src[off + i·cols + c]} for i < n (at most {@link #ROWS}), c < cols. */
    private static void scatterRows(float[] src, int off, int cols, int n, float[] dst, int r0, int ld) {
        if (n == ROWS) {
            int s1 = off + cols;
            int s2 = s1 + cols;
            int s3 = s2 + cols;
            int s4 = s3 + cols;
            int s5 = s4 + cols;
            int s6 = s5 + cols;
            int s7 = s6 + cols;
            for (int c = 0, d = r0; c < cols; c++, d += ld) {
                dst[d] = src[off + c];
                dst[d + 1] = src[s1 + c];
                dst[d + 2] = src[s2 + c];
                dst[d + 3] = src[s3 + c];
                dst[d + 4] = src[s4 + c];
                dst[d + 5] = src[s5 + c];
                dst[d + 6] = src[s6 + c];
                dst[d + 7] = src[s7 + c];
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            for (int c = 0, d = r0 + i; c < cols; c++, d += ld) {
                dst[d] = src[off + i * cols + c];
            }
        }
    }

    private static float halfToFloat(short half) {
        return io.aneforge.kernels.Fp16.toFloat(half); // the one FP16 implementation in ane-core
    }
}

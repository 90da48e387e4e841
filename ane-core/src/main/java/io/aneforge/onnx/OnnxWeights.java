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
 * Anything else that carries weights is an unknown layout and is refused rather than guessed.
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
        try {
            model = ModelProto.parseFrom(Files.readAllBytes(file));
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxFormatException(file, "not a valid ONNX protobuf (truncated or corrupt): " + e.getMessage());
        }
        if (!model.hasGraph() || model.getGraph().getInitializerCount() == 0) {
            throw new OnnxFormatException(file, "model has no graph initializers (no weights to import)");
        }
        GraphProto graph = model.getGraph();
        Map<String, List<NodeProto>> consumers = new HashMap<>();
        for (NodeProto node : graph.getNodeList()) {
            for (String input : node.getInputList()) {
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
            int type = init.getDataType();
            if (type != TensorProto.DataType.FLOAT_VALUE && type != TensorProto.DataType.FLOAT16_VALUE) {
                // Integer initializers are index buffers (position_ids) or shape constants, not weights.
                if (type == TensorProto.DataType.INT64_VALUE || type == TensorProto.DataType.INT32_VALUE
                        || type == TensorProto.DataType.BOOL_VALUE) {
                    continue;
                }
                throw new OnnxFormatException(file, "initializer '" + name + "' has unsupported data type " + type
                        + " (supported: 1 = float32, 10 = float16)");
            }
            int[] shape = shape(file, init);
            boolean anonymous = name.startsWith("onnx::") || !HUB_NAME.matcher(name).matches();
            if (!anonymous) {
                claim(file, sourceOf, name, name);
                decodes.add(new Decode(name, init, shape, false));
                continue;
            }
            List<NodeProto> users = consumers.getOrDefault(name, List.of());
            if (shape.length <= 1 && product(shape) <= 1) {
                continue; // scalar graph constants (eps, scale) folded into initializers
            }
            if (users.size() != 1 || !users.get(0).getOpType().equals("MatMul") || shape.length != 2
                    || users.get(0).getInputCount() != 2 || !users.get(0).getInput(1).equals(name)) {
                throw new OnnxFormatException(file, "unknown layout: initializer '" + name + "' "
                        + java.util.Arrays.toString(shape) + " is consumed by " + describe(users)
                        + "; only named initializers and MatMul right-hand weights can be mapped to Hub names");
            }
            String module = modulePath(file, name, users.get(0));
            claim(file, sourceOf, module + ".weight", name);
            decodes.add(new Decode(module + ".weight", init, shape, true));
        }
        FloatTensor[] tensors = new FloatTensor[decodes.size()];
        OnnxFormatException[] failures = new OnnxFormatException[decodes.size()];
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        // One range per kernel thread, each taking the next initializer: sizes range from 1 to 12 million floats.
        Parallel.forRange(Parallel.threads(), 1, (from, to) -> {
            for (int i = next.getAndIncrement(); i < tensors.length; i = next.getAndIncrement()) {
                Decode d = decodes.get(i);
                try {
                    FloatTensor t = decode(file, d.init(), d.shape());
                    tensors[i] = d.transposed() ? transpose(t) : t;
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

    private static FloatTensor decode(Path file, TensorProto init, int[] shape) throws OnnxFormatException {
        int count = (int) product(shape);
        float[] data = new float[count];
        boolean half = init.getDataType() == TensorProto.DataType.FLOAT16_VALUE;
        ByteString raw = init.getRawData();
        if (!raw.isEmpty()) {
            long expected = (long) count * (half ? 2 : 4);
            if (raw.size() != expected) {
                throw new OnnxFormatException(file, "initializer '" + init.getName() + "' raw_data has " + raw.size()
                        + " bytes but dims " + init.getDimsList() + " need " + expected);
            }
            var buf = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (half) {
                for (int i = 0; i < count; i++) {
                    data[i] = halfToFloat(buf.getShort(i * 2));
                }
            } else {
                buf.asFloatBuffer().get(data);
            }
        } else if (!half && init.getFloatDataCount() == count) {
            for (int i = 0; i < count; i++) {
                data[i] = init.getFloatData(i);
            }
        } else {
            throw new OnnxFormatException(file, "initializer '" + init.getName() + "' holds "
                    + init.getFloatDataCount() + " values but dims " + init.getDimsList() + " need " + count);
        }
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(data[i])) {
                throw new OnnxFormatException(file, "initializer '" + init.getName() + "' element " + i + " is "
                        + data[i] + ": NaN and infinite weights are rejected");
            }
        }
        return new FloatTensor(shape, data);
    }

    /** Tile edge of the transpose: a 32 x 32 float tile of source and destination (4 KiB each) stays in L1. */
    private static final int TILE = 32;

    /**
     * {@code [rows, cols]} to {@code [cols, rows]}, tile by tile: the plain double loop writes one element per
     * destination cache line and took a tenth of an import's CPU time (all-MiniLM-L6-v2's 36 projections).
     */
    static FloatTensor transpose(FloatTensor t) {
        int rows = t.shape()[0];
        int cols = t.shape()[1];
        float[] src = t.data();
        float[] dst = new float[src.length];
        for (int r0 = 0; r0 < rows; r0 += TILE) {
            int r1 = Math.min(rows, r0 + TILE);
            for (int c0 = 0; c0 < cols; c0 += TILE) {
                int c1 = Math.min(cols, c0 + TILE);
                for (int c = c0; c < c1; c++) {
                    int d = c * rows;
                    for (int r = r0; r < r1; r++) {
                        dst[d + r] = src[r * cols + c];
                    }
                }
            }
        }
        return new FloatTensor(new int[] {cols, rows}, dst);
    }

    private static float halfToFloat(short half) {
        return io.aneforge.kernels.Fp16.toFloat(half); // the one FP16 implementation in ane-core
    }
}

package io.aneforge.safetensors;

import io.aneforge.io.IoProblems;
import io.aneforge.tensor.FloatTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A validated, memory-mapped safetensors file. {@link #open} reads and checks only the header
 * (every rule of {@code HUB.md}). The data buffer is memory-mapped on first use (once per file,
 * or per tensor when it exceeds 2 GiB) and pages are only read when a tensor is touched, so a
 * multi-gigabyte checkpoint costs one tensor of heap at a time.
 *
 * <p>Layout: 8-byte little-endian u64 header length {@code N}, {@code N} bytes of UTF-8 JSON,
 * then the data buffer that {@code data_offsets} index into.
 */
public final class SafetensorsFile implements TensorReader {
    /** Bytes of the little-endian u64 header length that starts every file. */
    public static final int LENGTH_PREFIX_BYTES = 8;
    /** Same cap as the Python reader: a larger header is an attack or a broken file. */
    public static final long MAX_HEADER_BYTES = 25_000_000L;
    static final String METADATA_KEY = "__metadata__";
    /** Floats copied and checked per step: 16 KiB, well inside L1. */
    private static final int CHECK_CHUNK = 4096;

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    /** The whole data buffer, mapped on first use when it fits one mapping (under 2 GiB). */
    private volatile java.nio.MappedByteBuffer whole;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates the header; the caller closes the returned file. */
    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = channel.size();
            if (size < LENGTH_PREFIX_BYTES) {
                throw new SafetensorsException(path, null, "file is " + size
                        + " bytes, shorter than the 8-byte header length prefix (truncated file?)");
            }
            ByteBuffer prefix = ByteBuffer.allocate(LENGTH_PREFIX_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, prefix, 0);
            long headerLength = prefix.getLong(0);
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                throw new SafetensorsException(path, null, "header length "
                        + Long.toUnsignedString(headerLength) + " exceeds the cap of " + MAX_HEADER_BYTES + " bytes");
            }
            if (headerLength > size - LENGTH_PREFIX_BYTES) {
                throw new SafetensorsException(path, null, "header length " + headerLength
                        + " runs past the end of the file (" + size + " bytes): truncated file or lying length");
            }
            if (headerLength < 2) {
                throw new SafetensorsException(path, null, "header length " + headerLength
                        + " is too short for a JSON object");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, LENGTH_PREFIX_BYTES);
            long dataStart = LENGTH_PREFIX_BYTES + headerLength;
            HeaderParser parsed = new HeaderParser(path, header.flip(), size - dataStart);
            return new SafetensorsFile(path, channel, dataStart, parsed.tensors, parsed.metadata);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at " + pos);
            }
            pos += n;
        }
    }

    public Path path() {
        return path;
    }

    /** The optional {@code __metadata__} map (string to string), possibly empty. */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /**
     * The tensor's bytes as a read-only little-endian mapping of the file; valid until
     * {@link #close}. This is the zero-copy path; {@link #readFloat} copies into the heap.
     */
    public ByteBuffer bytes(String name) throws SafetensorsException {
        TensorInfo info = require(name);
        if (info.byteLength() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path, name, "tensor is " + info.byteLength()
                    + " bytes; tensors over 2 GiB are not supported");
        }
        if (info.byteLength() == 0) {
            return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        }
        try {
            long dataLength = channel.size() - dataStart;
            if (dataLength <= Integer.MAX_VALUE - 8) {
                // One mapping per file (mapping is lazy: pages are read when a tensor is touched).
                if (whole == null) {
                    whole = channel.map(FileChannel.MapMode.READ_ONLY, dataStart, dataLength);
                }
                return whole.slice((int) info.begin(), (int) info.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
            }
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin(), info.byteLength())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new SafetensorsException(path, name, "cannot map tensor bytes: " + IoProblems.describe(e, path), e);
        }
    }

    @Override
    public FloatTensor readFloat(String name) throws SafetensorsException {
        TensorInfo info = require(name);
        if (!info.dtype().isFloat()) {
            // An integer tensor where a weight belongs is a quantized or broken checkpoint: widening its values
            // to floats converts without complaint and computes garbage.
            throw new SafetensorsException(path, null, "tensor '" + name + "' has dtype " + info.dtype()
                    + ", which is not a floating-point weight (weights are F32, F16 or BF16)");
        }
        ByteBuffer bytes = bytes(name);
        float[] out = new float[Math.toIntExact(info.elementCount())];
        if (info.dtype() == DType.F32) {
            // Copy and check in cache-sized chunks so the finiteness scan reads from L1, not memory.
            java.nio.FloatBuffer floats = bytes.asFloatBuffer();
            for (int start = 0; start < out.length; start += CHECK_CHUNK) {
                int n = Math.min(CHECK_CHUNK, out.length - start);
                floats.get(out, start, n);
                checkFinite(name, out, start, start + n);
            }
        } else {
            DTypeCodec.decodeFloats(info.dtype(), bytes, out);
            checkFinite(name, out, 0, out.length);
        }
        return new FloatTensor(info.intShape(), out);
    }

    private void checkFinite(String name, float[] values, int from, int to) throws SafetensorsException {
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(values[i])) {
                throw new SafetensorsException(path, name, "element " + i + " is " + values[i]
                        + ": NaN and infinite weights are rejected (a broken or tampered checkpoint)");
            }
        }
    }

    /** Integer tensors (I8/I32/I64) widened to long; float dtypes are refused. */
    public long[] readLongs(String name) throws SafetensorsException {
        TensorInfo info = require(name);
        if (info.dtype().isFloat()) {
            throw new SafetensorsException(path, name, "dtype " + info.dtype() + " is not an integer type");
        }
        ByteBuffer bytes = bytes(name);
        long[] out = new long[Math.toIntExact(info.elementCount())];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (info.dtype()) {
                case I8 -> bytes.get(i);
                case I32 -> bytes.getInt(i * 4);
                case I64 -> bytes.getLong(i * 8);
                default -> throw new IllegalStateException("unreachable: " + info.dtype());
            };
        }
        return out;
    }

    private TensorInfo require(String name) throws SafetensorsException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafetensorsException(path, name, "no such tensor in this file");
        }
        if (info.elementCount() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(path, name, "tensor has " + info.elementCount()
                    + " elements; more than a Java array can hold");
        }
        return info;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Read-only channel: nothing was written, nothing can be lost.
        }
    }

    /** Header JSON to validated entries; every violation names its rule. */
    private static final class HeaderParser {
        final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();

        HeaderParser(Path path, ByteBuffer header, long bufferLength) throws SafetensorsException {
            String json;
            try {
                json = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(header).toString();
            } catch (CharacterCodingException e) {
                throw new SafetensorsException(path, null, "header is not valid UTF-8");
            }
            if (json.isEmpty() || json.charAt(0) != '{') {
                throw new SafetensorsException(path, null, "header must start with '{' (a JSON object)");
            }
            JsonNode root;
            try {
                root = JSON.readTree(json);
            } catch (JacksonException e) {
                String message = e.getOriginalMessage();
                if (message != null && message.startsWith("Duplicate")) {
                    throw new SafetensorsException(path, null, "duplicate tensor name in header: " + message);
                }
                throw new SafetensorsException(path, null, "header is not valid JSON: " + message);
            }
            if (root == null || !root.isObject()) {
                throw new SafetensorsException(path, null, "header must be a JSON object");
            }
            List<TensorInfo> byOffset = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : root.properties()) {
                String name = e.getKey();
                if (name.equals(METADATA_KEY)) {
                    metadata = parseMetadata(path, e.getValue());
                    continue;
                }
                if (name.isEmpty()) {
                    throw new SafetensorsException(path, name, "tensor name must not be empty");
                }
                TensorInfo info = parseEntry(path, name, e.getValue(), bufferLength);
                tensors.put(name, info);
                byOffset.add(info);
            }
            checkCoverage(path, byOffset, bufferLength);
        }

        private static Map<String, String> parseMetadata(Path path, JsonNode node) throws SafetensorsException {
            if (!node.isObject()) {
                throw new SafetensorsException(path, null, "__metadata__ must be an object of strings");
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (!e.getValue().isString()) {
                    throw new SafetensorsException(path, null, "__metadata__ value for '" + e.getKey()
                            + "' must be a string");
                }
                out.put(e.getKey(), e.getValue().stringValue());
            }
            return Collections.unmodifiableMap(out);
        }

        private static TensorInfo parseEntry(Path path, String name, JsonNode node, long bufferLength)
                throws SafetensorsException {
            if (!node.isObject()) {
                throw new SafetensorsException(path, name, "entry must be an object with dtype, shape, data_offsets");
            }
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                String key = field.getKey();
                if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                    throw new SafetensorsException(path, name, "unknown field '" + key + "' in tensor entry");
                }
            }
            JsonNode dtypeNode = node.get("dtype");
            if (dtypeNode == null || !dtypeNode.isString()) {
                throw new SafetensorsException(path, name, "missing or non-string 'dtype'");
            }
            DType dtype = DType.parse(dtypeNode.stringValue()).orElseThrow(() -> new SafetensorsException(path, name,
                    "unsupported dtype '" + dtypeNode.stringValue() + "' (supported: F32, F16, BF16, I8, I32, I64)"));
            long[] shape = nonNegativeLongs(path, name, node.get("shape"), "shape", -1);
            long[] offsets = nonNegativeLongs(path, name, node.get("data_offsets"), "data_offsets", 2);
            long begin = offsets[0];
            long end = offsets[1];
            if (end < begin) {
                throw new SafetensorsException(path, name, "data_offsets [" + begin + ", " + end + "] end before begin");
            }
            if (end > bufferLength) {
                throw new SafetensorsException(path, name, "data_offsets [" + begin + ", " + end
                        + "] out of range: the data buffer has " + bufferLength + " bytes, so the file is shorter than its"
                        + " header says (truncated, e.g. by an interrupted download): download it again");
            }
            long expected;
            try {
                long count = 1;
                for (long d : shape) {
                    count = Math.multiplyExact(count, d);
                }
                expected = Math.multiplyExact(count, dtype.size());
            } catch (ArithmeticException overflow) {
                throw new SafetensorsException(path, name, "shape " + java.util.Arrays.toString(shape)
                        + " overflows 64-bit byte size (huge dimensions)");
            }
            if (end - begin != expected) {
                throw new SafetensorsException(path, name, "byte length " + (end - begin) + " does not match dtype "
                        + dtype + " x shape " + java.util.Arrays.toString(shape) + " = " + expected + " bytes");
            }
            return new TensorInfo(name, dtype, shape, begin, end);
        }

        private static long[] nonNegativeLongs(Path path, String name, JsonNode node, String field, int arity)
                throws SafetensorsException {
            if (node == null || !node.isArray()) {
                throw new SafetensorsException(path, name, "missing or non-array '" + field + "'");
            }
            if (arity >= 0 && node.size() != arity) {
                throw new SafetensorsException(path, name, "'" + field + "' must have " + arity + " elements, has "
                        + node.size());
            }
            long[] out = new long[node.size()];
            for (int i = 0; i < out.length; i++) {
                JsonNode v = node.get(i);
                if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                    throw new SafetensorsException(path, name, "'" + field + "' element " + i + " (" + v
                            + ") is not a non-negative 64-bit integer");
                }
                out[i] = v.longValue();
            }
            return out;
        }

        /** Entries sorted by offset must tile the buffer exactly: no overlap, no hole, no tail. */
        private static void checkCoverage(Path path, List<TensorInfo> entries, long bufferLength)
                throws SafetensorsException {
            entries.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
            long cursor = 0;
            TensorInfo previous = null;
            for (TensorInfo t : entries) {
                if (t.begin() < cursor) {
                    throw new SafetensorsException(path, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                            + "] overlap tensor '" + previous.name() + "' ending at " + cursor);
                }
                if (t.begin() > cursor) {
                    throw new SafetensorsException(path, t.name(), "hole of " + (t.begin() - cursor)
                            + " bytes before this tensor at buffer offset " + cursor + " (offsets must cover the buffer)");
                }
                cursor = t.end();
                previous = t;
            }
            if (cursor != bufferLength) {
                throw new SafetensorsException(path, null, (bufferLength - cursor)
                        + " trailing bytes after the last tensor (offsets must cover the buffer exactly)");
            }
        }
    }
}

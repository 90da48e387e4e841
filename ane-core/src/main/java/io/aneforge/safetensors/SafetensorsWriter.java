package io.aneforge.safetensors;

import io.aneforge.tensor.FloatTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes float32 tensors as a safetensors file: names sorted (same input, same bytes), header
 * padded with spaces to an 8-byte boundary so the data buffer is aligned, written to a
 * temporary sibling and moved into place so a reader never sees half a file.
 */
public final class SafetensorsWriter {
    /** The data buffer starts on this boundary, as the Python writer does. */
    public static final int HEADER_ALIGNMENT = 8;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SafetensorsWriter() {
    }

    public static void write(Path file, Map<String, FloatTensor> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, FloatTensor> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject(SafetensorsFile.METADATA_KEY);
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, FloatTensor> e : sorted.entrySet()) {
            if (e.getKey().isEmpty() || e.getKey().equals(SafetensorsFile.METADATA_KEY)) {
                throw new IllegalArgumentException("invalid tensor name '" + e.getKey() + "'");
            }
            FloatTensor t = e.getValue();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", DType.F32.name());
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            long end = offset + 4L * t.data().length;
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + HEADER_ALIGNMENT - 1) / HEADER_ALIGNMENT * HEADER_ALIGNMENT;
        ByteBuffer head = ByteBuffer.allocate(SafetensorsFile.LENGTH_PREFIX_BYTES + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();

        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, head);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (FloatTensor t : sorted.values()) {
                float[] data = t.data();
                int i = 0;
                while (i < data.length) {
                    int n = Math.min(chunk.remaining() / 4, data.length - i);
                    chunk.asFloatBuffer().put(data, i, n);
                    chunk.position(chunk.position() + 4 * n);
                    i += n;
                    if (chunk.remaining() < 4) {
                        chunk.flip();
                        writeFully(out, chunk);
                        chunk.clear();
                    }
                }
            }
            chunk.flip();
            writeFully(out, chunk);
            out.force(false);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}

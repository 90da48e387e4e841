package io.aneforge.testsupport.models;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes safetensors files byte by byte, with nothing validated, so tests can build both
 * well-formed files (float32 tensors, offsets computed) and deliberately broken ones
 * ({@link #rawHeader}, {@link #bytes}). Independent of ane-core's writer on purpose.
 */
public final class RawSafetensors {
    private record Entry(String name, String dtype, long[] shape, byte[] data) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private String metadataJson;

    /** Adds a little-endian float32 tensor. */
    public RawSafetensors f32(String name, float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return raw(name, "F32", b.array(), shape);
    }

    /** Adds a tensor with arbitrary dtype string and bytes (lengths are not checked). */
    public RawSafetensors raw(String name, String dtype, byte[] data, long... shape) {
        entries.add(new Entry(name, dtype, shape.clone(), data.clone()));
        return this;
    }

    public RawSafetensors metadata(String json) {
        this.metadataJson = json;
        return this;
    }

    /** The header JSON this builder would write, with offsets packed in insertion order. */
    public String headerJson() {
        StringBuilder json = new StringBuilder("{");
        if (metadataJson != null) {
            json.append("\"__metadata__\":").append(metadataJson);
        }
        long offset = 0;
        for (Entry e : entries) {
            if (json.length() > 1) {
                json.append(',');
            }
            json.append('"').append(escape(e.name)).append("\":{\"dtype\":\"").append(e.dtype).append("\",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(e.shape[i]);
            }
            json.append(String.format(Locale.ROOT, "],\"data_offsets\":[%d,%d]}", offset, offset + e.data.length));
            offset += e.data.length;
        }
        return json.append('}').toString();
    }

    public byte[] dataBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Entry e : entries) {
            out.writeBytes(e.data);
        }
        return out.toByteArray();
    }

    /** A complete, well-formed file. */
    public byte[] bytes() {
        return bytes(headerJson(), dataBytes());
    }

    public void write(Path file) throws IOException {
        Files.write(file, bytes());
    }

    /** A file from any header text and data buffer; the length prefix is the header's true length. */
    public static byte[] bytes(String headerJson, byte[] data) {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return rawHeader(header.length, header, data);
    }

    /** A file with a length prefix that may lie about the header. */
    public static byte[] rawHeader(long declaredLength, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header).put(data);
        return b.array();
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}

package io.aneforge.eval.golden;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Binary form of {@link GoldenOutputs}, versions 1, 2 and 3 (the reader reads all three; {@link #write(GoldenOutputs,
 * OutputStream)} writes the oldest version that holds what it is given, capped by {@link #configuredVersion()}). All
 * integers little-endian.
 * <pre>
 *   magic        4 bytes  "AFGO"
 *   version      u32      1, 2 or 3
 *   sampleCount  u32      ≥ 1
 *   outputCount  u32      ≥ 1
 *   outputCount × name    (u32 byte length, UTF-8)
 *   sampleCount × {
 *     id                  (u32 byte length, UTF-8)
 *     outputCount × { rank u32 (≤ 8), rank × u32 dims, tensor }
 *   }
 *   crc32        u32      CRC-32 of every byte before it
 *
 *   tensor, version 1:  every element, f32 each
 *   tensor, version 2:  stored u32 (≤ elements), stored × f32          (the rest are +0.0f)
 *   tensor, version 3:  layout u32, then
 *                         layout 0 (leading elements): as version 2
 *                         layout 1 (held positions):   count u32 (≤ dims[1]), count × u32 positions (ascending,
 *                                                      each &lt; dims[1]), count × (elements / dims[1]) × f32
 * </pre>
 * Version 2 leaves out a tensor's trailing {@code +0.0f} elements ({@code stored} counts the ones written; the
 * rest are {@code +0.0f}). Golden outputs are laid out at full sequence length with zeros at the padded positions,
 * which come last ({@code Golden.fullLength}): for GPT-2's logits at seq 128 the fixed samples' padding is most of
 * the 823 MB a version 1 blob holds. Version 1 has no {@code stored} field and writes every element.
 *
 * <p>Version 3 adds a second layout: a per-token output {@code (1, S, ...)} held at some positions only (layout 1,
 * {@link GoldenTensor#heldPositions()}), the rows at those positions and nothing else: what {@link HeldPositions}
 * keeps of vocabulary-sized logits (a fill-mask model's logits are 75 MB to 600 MB at every real token of the fixed
 * samples, a few MB at the held positions). Other tensors are layout 0, the bytes version 2 writes after the layout
 * field. A version 3 blob is written only when a tensor holds some positions only; everything else stays version 2.
 *
 * <p>Decoding does not put the zeros back: each tensor is a {@link GoldenTensor} holding its elements up to the last
 * that is not {@code +0.0f} (for a version 1 blob the trailing zeros are read, checksummed and dropped; every other
 * element, {@code -0.0f} and zeros before the last value included, is kept). Both versions of the same outputs decode
 * to equal values, and writing what was decoded gives the same bytes in either version.
 *
 * <p>Why versions 2 and 3 can be written by default: an agent says at registration the newest version it reads
 * ({@code goldenFormat}; agents from before it say nothing and are taken to read version 1 only), the registry
 * reads the version of a model version's golden blobs when they are set ({@link #version(InputStream)}) and leases a
 * job only to an agent that reads them. A fleet of old agents leaves a newer model's jobs pending (not failed)
 * until an upgraded agent takes them; {@value #FORMAT_VARIABLE}=1 (or 2) writes what every agent (or every agent of
 * the previous release) reads. A reader of versions 1 and 2 (an agent or registry from before version 3) refuses a
 * version 3 blob at its header: "unsupported version 3 (this reader supports 1 to 2): the blob was written by a
 * newer ANE Forge; upgrade this component to the registry's version".
 *
 * <p>The reader is strict: it rejects a wrong magic or version, impossible counts, truncated
 * data, a checksum mismatch and trailing bytes, each with a message naming the field; and, before allocating,
 * a blob whose tensors would hold more than this JVM's heap (or the caller's bound) once decoded.
 * Streams only: callers open and close them.
 */
public final class GoldenOutputsCodec {

    /** The newest version this codec reads and can write. */
    public static final int VERSION = 3;
    /**
     * Environment variable capping the version {@link #write(GoldenOutputs, OutputStream)} writes: 1, 2, or 3 (the
     * default: version 3 where a tensor holds some positions only, else 2). Below 3, {@link HeldPositions} keeps every
     * position, so the blob is one that agents of an earlier release read.
     */
    public static final String FORMAT_VARIABLE = "ANEFORGE_GOLDEN_FORMAT";
    /** System property with the same meaning; it wins over the variable. */
    public static final String FORMAT_PROPERTY = "aneforge.golden.format";
    /** Bytes of the header {@link #version(InputStream)} reads: the magic and the version. */
    public static final int HEADER_BYTES = 8;
    /** Version 3's tensor layouts: the leading elements (as version 2), or the rows at some positions. */
    static final int LAYOUT_LEADING = 0;
    static final int LAYOUT_HELD_POSITIONS = 1;
    /** The oldest version the reader reads. */
    static final int FIRST_VERSION = 1;
    private static final byte[] MAGIC = {'A', 'F', 'G', 'O'};
    static final int MAX_STRING_BYTES = 1 << 16;
    static final int MAX_RANK = 8;
    static final int MAX_OUTPUTS = 4096;
    static final int MAX_SAMPLES = 1 << 20;
    static final long MAX_ELEMENTS = 1L << 28;
    private static final int CHUNK_FLOATS = 1 << 14;

    private GoldenOutputsCodec() {
    }

    /**
     * Writes {@code golden} in the oldest version that holds it under the {@link #configuredVersion()} cap
     * ({@link #versionFor}): 3 only when a tensor holds some positions only.
     */
    public static void write(GoldenOutputs golden, OutputStream out) throws IOException {
        write(golden, out, versionFor(golden, configuredVersion()));
    }

    /**
     * The newest version {@link #write(GoldenOutputs, OutputStream)} may write: {@value #FORMAT_PROPERTY}, else
     * {@value #FORMAT_VARIABLE}, else {@link #VERSION}.
     *
     * @throws IllegalArgumentException naming the setting when it is not 1, 2 or 3
     */
    public static int configuredVersion() {
        String property = System.getProperty(FORMAT_PROPERTY);
        String value = property != null ? property : System.getenv(FORMAT_VARIABLE);
        String name = property != null ? "-D" + FORMAT_PROPERTY : FORMAT_VARIABLE;
        if (value == null || value.isBlank()) {
            return VERSION;
        }
        return switch (value.trim()) {
            case "1" -> 1;
            case "2" -> 2;
            case "3" -> 3;
            default -> throw new IllegalArgumentException(name + "='" + value + "' is not a golden format version: use 3"
                    + " (the default: vocabulary-sized logits at a few held positions; the registry leases its jobs only"
                    + " to agents that read it), 2 (every position, without the padding: agents of the previous release"
                    + " read it) or 1 (every agent reads it)");
        };
    }

    /**
     * The version {@link #write(GoldenOutputs, OutputStream)} writes {@code golden} in under the cap {@code newest}:
     * 3 when a tensor holds some positions only (refused under a lower cap: such a tensor has no other form), else
     * 2, or 1 when the cap says so.
     */
    public static int versionFor(GoldenOutputs golden, int newest) {
        boolean held = golden.samples().stream()
                .anyMatch(s -> s.tensors().values().stream().anyMatch(GoldenTensor::holdsSomePositionsOnly));
        if (held && newest < 3) {
            throw new IllegalArgumentException("golden outputs: a tensor holds some positions only, which golden format "
                    + newest + " cannot store (format 3 can): keep every position for an older format"
                    + " (HeldPositions.forStorage does under " + FORMAT_VARIABLE + "=" + newest + ")");
        }
        return held ? 3 : Math.min(newest, 2);
    }

    /** Writes {@code golden} in format {@code version} (1, 2 or 3; 1 and 2 only when every tensor holds every position). */
    public static void write(GoldenOutputs golden, OutputStream out, int version) throws IOException {
        if (version < FIRST_VERSION || version > VERSION) {
            throw new IllegalArgumentException("golden outputs: cannot write version " + version + " (1, 2 or 3)");
        }
        if (version < 3) {
            versionFor(golden, version); // refuses held positions
        }
        Writer w = new Writer(out);
        w.bytes(MAGIC);
        w.u32(version);
        List<String> names = golden.outputNames();
        w.u32(golden.samples().size());
        w.u32(names.size());
        for (String name : names) {
            w.string(name);
        }
        for (GoldenOutputs.Sample sample : golden.samples()) {
            w.string(sample.id());
            for (String name : names) {
                GoldenTensor t = sample.tensors().get(name);
                w.u32(t.rank());
                for (int d : t.shape()) {
                    w.u32(d);
                }
                float[] data = t.stored();
                if (version >= 3) {
                    w.u32(t.holdsSomePositionsOnly() ? LAYOUT_HELD_POSITIONS : LAYOUT_LEADING);
                }
                if (t.holdsSomePositionsOnly()) {
                    int[] positions = t.heldPositions();
                    w.u32(positions.length);
                    for (int p : positions) {
                        w.u32(p);
                    }
                    w.floats(data, data.length);
                } else if (version >= 2) {
                    int stored = GoldenTensor.nonZeroEnd(data, data.length);
                    w.u32(stored);
                    w.floats(data, stored);
                } else {
                    w.floats(data, data.length);
                    w.zeros(t.size() - data.length); // the zeros not held: version 1 writes every element
                }
            }
        }
        long crc = w.crc.getValue();
        w.u32((int) crc);
        out.flush();
    }

    public static GoldenOutputs read(InputStream in) throws IOException {
        return read(in, Runtime.getRuntime().maxMemory());
    }

    /**
     * The format version of the blob {@code in} starts (its first 8 bytes; the rest is not read): what the registry
     * records when a version's golden data is set, so that it leases the version's jobs only to agents that read it.
     *
     * @throws GoldenFormatException when the bytes are not a golden blob or its version is not one this codec reads
     */
    public static int version(InputStream in) throws IOException {
        Reader r = new Reader(in);
        return checkedVersion(r, VERSION);
    }

    /** The header's version, refused unless {@link #FIRST_VERSION} to {@code newest}: what a reader of those says. */
    private static int checkedVersion(Reader r, int newest) throws IOException {
        byte[] magic = r.bytes(4, "magic");
        if (!Arrays.equals(magic, MAGIC)) {
            throw new GoldenFormatException("golden outputs: bad magic " + hex(magic)
                    + " (expected \"AFGO\"): this is not a golden-outputs blob");
        }
        int version = r.u32("version");
        if (version < FIRST_VERSION || Integer.compareUnsigned(version, newest) > 0) {
            throw new GoldenFormatException("golden outputs: unsupported version " + Integer.toUnsignedString(version)
                    + " (this reader supports " + FIRST_VERSION + " to " + newest + "): "
                    + (Integer.compareUnsigned(version, newest) > 0
                    ? "the blob was written by a newer ANE Forge; upgrade this component to the registry's version"
                    : "regenerate the golden outputs"));
        }
        return version;
    }

    /**
     * {@link #read(InputStream)}, refusing a blob whose tensors hold more than {@code maxHeldBytes} once decoded
     * before allocating the floats that would pass it (the default is this JVM's maximum heap), with a
     * {@link GoldenTooLargeException}. Decoded tensors hold no trailing zeros ({@link GoldenTensor}): what a
     * version 2 blob stores, and what a version 1 blob has before its trailing zeros (read, checked by the
     * checksum and dropped), so the bound is on the floats held, not on the padded length the shapes declare.
     */
    public static GoldenOutputs read(InputStream in, long maxHeldBytes) throws IOException {
        return read(in, maxHeldBytes, VERSION);
    }

    /**
     * {@link #read(InputStream, long)} as a reader of versions 1 to {@code newest} reads: {@code newest} 2 is what an
     * agent or registry from before version 3 does with a blob (its header refused, nothing else read).
     */
    static GoldenOutputs read(InputStream in, long maxHeldBytes, int newest) throws IOException {
        Reader r = new Reader(in);
        int version = checkedVersion(r, newest);
        long held = 0;
        int samples = r.count("sampleCount", MAX_SAMPLES);
        int outputs = r.count("outputCount", MAX_OUTPUTS);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            String name = r.string("output name " + i);
            if (name.isEmpty() || names.contains(name)) {
                throw new GoldenFormatException("golden outputs: output name " + i + " is empty or repeated ('" + name + "')");
            }
            names.add(name);
        }
        List<GoldenOutputs.Sample> list = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            String id = r.string("id of sample " + s);
            Map<String, GoldenTensor> tensors = new LinkedHashMap<>();
            for (String name : names) {
                String where = "tensor '" + name + "' of sample '" + id + "'";
                int rank = r.u32("rank of " + where);
                if (rank < 0 || rank > MAX_RANK) {
                    throw new GoldenFormatException("golden outputs: rank " + Integer.toUnsignedString(rank) + " of " + where
                            + " exceeds " + MAX_RANK + "; the blob is corrupt");
                }
                int[] shape = new int[rank];
                long count = 1;
                for (int d = 0; d < rank; d++) {
                    shape[d] = r.u32("dimension " + d + " of " + where);
                    if (shape[d] < 0) {
                        throw new GoldenFormatException("golden outputs: dimension " + d + " of " + where + " is "
                                + Integer.toUnsignedString(shape[d]) + "; the blob is corrupt");
                    }
                    count *= shape[d];
                    if (count > MAX_ELEMENTS) {
                        throw new GoldenFormatException("golden outputs: " + where + " claims more than " + MAX_ELEMENTS
                                + " elements (shape so far " + Arrays.toString(Arrays.copyOf(shape, d + 1)) + "); the blob is corrupt");
                    }
                }
                float[] data;
                int[] positions = null;
                int layout = version >= 3 ? r.u32("layout of " + where) : LAYOUT_LEADING;
                if (layout == LAYOUT_HELD_POSITIONS) {
                    if (rank < 2 || shape[0] != 1 || shape[1] == 0) {
                        throw new GoldenFormatException("golden outputs: " + where + " holds some positions only but has"
                                + " shape " + Arrays.toString(shape) + ", not (1, S, ...); the blob is corrupt");
                    }
                    int rows = r.u32("held position count of " + where);
                    if (rows < 0 || rows > shape[1]) {
                        throw new GoldenFormatException("golden outputs: " + where + " holds "
                                + Integer.toUnsignedString(rows) + " positions of " + shape[1] + "; the blob is corrupt");
                    }
                    // Checked before the positions are allocated: rows is bounded by shape[1] only (up to
                    // MAX_ELEMENTS), so a few hostile header bytes could otherwise claim a 1 GiB array.
                    int floats = (int) (rows * (count / shape[1])); // at most count, itself at most MAX_ELEMENTS
                    checkHeld(held + 4L * rows + 4L * floats, maxHeldBytes, where);
                    positions = new int[rows];
                    for (int i = 0; i < rows; i++) {
                        positions[i] = r.u32("held position " + i + " of " + where);
                        if (positions[i] < 0 || positions[i] >= shape[1] || i > 0 && positions[i] <= positions[i - 1]) {
                            throw new GoldenFormatException("golden outputs: held position " + i + " of " + where + " is "
                                    + Integer.toUnsignedString(positions[i]) + ": positions must ascend, each below "
                                    + shape[1] + "; the blob is corrupt");
                        }
                    }
                    data = r.floats(floats, where);
                } else if (layout != LAYOUT_LEADING) {
                    throw new GoldenFormatException("golden outputs: layout " + Integer.toUnsignedString(layout) + " of "
                            + where + " is neither 0 (leading elements) nor 1 (held positions); the blob is corrupt");
                } else if (version >= 2) {
                    int stored = r.u32("stored element count of " + where);
                    if (stored < 0 || stored > count) {
                        throw new GoldenFormatException("golden outputs: " + where + " stores "
                                + Integer.toUnsignedString(stored) + " elements of " + count + "; the blob is corrupt");
                    }
                    checkHeld(held + 4L * stored, maxHeldBytes, where);
                    data = r.floats(stored, where); // the trailing +0.0f version 2 leaves out are not held
                } else {
                    data = r.floatsWithoutTrailingZeros((int) count, where, held, maxHeldBytes);
                }
                GoldenTensor tensor = new GoldenTensor(shape, data, positions);
                held += tensor.heldBytes(); // the floats and the held positions
                tensors.put(name, tensor);
            }
            try {
                list.add(new GoldenOutputs.Sample(id, tensors));
            } catch (IllegalArgumentException e) {
                throw new GoldenFormatException("golden outputs: " + e.getMessage());
            }
        }
        long computed = r.crc.getValue();
        int stored = r.u32Unchecked("crc32");
        if ((int) computed != stored) {
            throw new GoldenFormatException(String.format("golden outputs: checksum mismatch (stored %08x, computed %08x); "
                    + "the blob is corrupt", stored, (int) computed));
        }
        if (in.read() != -1) {
            throw new GoldenFormatException("golden outputs: unexpected bytes after the checksum; the blob is corrupt "
                    + "or two blobs were concatenated");
        }
        try {
            return new GoldenOutputs(list);
        } catch (IllegalArgumentException e) {
            throw new GoldenFormatException(e.getMessage()); // GoldenOutputs' messages start with "golden outputs: "
        }
    }

    /** Refuses a blob whose floats held would pass {@code max} once those of {@code where} are. */
    private static void checkHeld(long held, long max, String where) throws GoldenTooLargeException {
        if (held > max) {
            throw new GoldenTooLargeException("golden outputs: the tensors up to " + where + " hold " + held
                    + " bytes once decoded, more than this JVM can hold (" + max + " bytes): give it more memory"
                    + " (-Xmx), or the blob is corrupt", held, max);
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder("0x");
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }

    private static final class Writer {
        final OutputStream out;
        final CRC32 crc = new CRC32();
        final ByteBuffer buf = ByteBuffer.allocate(CHUNK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);

        Writer(OutputStream out) {
            this.out = out;
        }

        void bytes(byte[] b) throws IOException {
            out.write(b);
            crc.update(b);
        }

        void u32(int v) throws IOException {
            bytes(new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)});
        }

        void zeros(int count) throws IOException {
            byte[] zeros = new byte[Math.min(count, CHUNK_FLOATS) * 4];
            for (int i = 0; i < count; i += CHUNK_FLOATS) {
                int n = Math.min(CHUNK_FLOATS, count - i);
                out.write(zeros, 0, n * 4);
                crc.update(zeros, 0, n * 4);
            }
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > MAX_STRING_BYTES) {
                throw new IllegalArgumentException("golden outputs: name '" + s.substring(0, 40) + "…' is longer than "
                        + MAX_STRING_BYTES + " bytes");
            }
            u32(b.length);
            bytes(b);
        }

        /** The first {@code length} elements of {@code data}. */
        void floats(float[] data, int length) throws IOException {
            for (int i = 0; i < length; i += CHUNK_FLOATS) {
                int n = Math.min(CHUNK_FLOATS, length - i);
                buf.clear();
                buf.asFloatBuffer().put(data, i, n);
                out.write(buf.array(), 0, n * 4);
                crc.update(buf.array(), 0, n * 4);
            }
        }
    }

    private static final class Reader {
        final InputStream in;
        final CRC32 crc = new CRC32();
        long position;

        Reader(InputStream in) {
            this.in = in;
        }

        byte[] bytes(int n, String field) throws IOException {
            byte[] b = new byte[n];
            fill(b, n, field);
            crc.update(b, 0, n);
            return b;
        }

        private void fill(byte[] b, int n, String field) throws IOException {
            int got = in.readNBytes(b, 0, n);
            if (got < n) {
                throw new GoldenFormatException("golden outputs: truncated at byte " + (position + got) + " while reading "
                        + field + " (needed " + n + " bytes, got " + got + ")");
            }
            position += n;
        }

        int u32(String field) throws IOException {
            byte[] b = bytes(4, field);
            return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }

        int u32Unchecked(String field) throws IOException {
            byte[] b = new byte[4];
            fill(b, 4, field);
            return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }

        int count(String field, int max) throws IOException {
            int v = u32(field);
            if (v < 1 || v > max) {
                throw new GoldenFormatException("golden outputs: " + field + " is " + Integer.toUnsignedString(v)
                        + ", expected 1.." + max + "; the blob is corrupt");
            }
            return v;
        }

        String string(String field) throws IOException {
            int len = u32("length of " + field);
            if (len < 0 || len > MAX_STRING_BYTES) {
                throw new GoldenFormatException("golden outputs: length of " + field + " is " + Integer.toUnsignedString(len)
                        + " bytes, more than " + MAX_STRING_BYTES + "; the blob is corrupt");
            }
            byte[] b = bytes(len, field);
            try {
                CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(b));
                return chars.toString();
            } catch (CharacterCodingException e) {
                throw new GoldenFormatException("golden outputs: " + field + " is not valid UTF-8; the blob is corrupt");
            }
        }

        /**
         * The next {@code n} floats' bytes into {@code chunk}, checksummed: {@code done} of the tensor's {@code count}
         * were read before; a stream that ends first is refused naming where.
         */
        private void readChunk(byte[] chunk, int n, int count, int done, String where) throws IOException {
            int got = in.readNBytes(chunk, 0, n * 4);
            if (got < n * 4) {
                throw new GoldenFormatException("golden outputs: truncated in the data of " + where + ": expected "
                        + (4L * count) + " bytes, the stream ended after " + (4L * done + got));
            }
            crc.update(chunk, 0, n * 4);
            position += n * 4L;
        }

        /** Reads in chunks so a corrupt element count fails on truncation before allocating everything. */
        float[] floats(int count, String where) throws IOException {
            float[] out = new float[Math.min(count, CHUNK_FLOATS)];
            byte[] chunk = new byte[CHUNK_FLOATS * 4];
            int done = 0;
            while (done < count) {
                int n = Math.min(CHUNK_FLOATS, count - done);
                readChunk(chunk, n, count, done, where);
                if (out.length < done + n) {
                    out = Arrays.copyOf(out, (int) Math.min(count, Math.max(2L * out.length, done + n)));
                }
                ByteBuffer.wrap(chunk, 0, n * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out, done, n);
                done += n;
            }
            return out;
        }

        /**
         * Reads {@code count} floats (version 1 writes every element) and keeps them up to the last that is not
         * {@code +0.0f}: a run of zeros is held only once a value after it shows it is not the tail. Refuses, before
         * allocating, floats that would take what is held past {@code maxHeld} ({@code held} are held already). The
         * array grows by doubling but never past what {@code maxHeld} leaves, so no array is larger than the floats
         * it may hold; while it grows, and when it is cut to the floats kept, the old array and the new one are both
         * alive for the copy.
         */
        float[] floatsWithoutTrailingZeros(int count, String where, long held, long maxHeld) throws IOException {
            float[] out = new float[0];
            float[] floats = new float[CHUNK_FLOATS];
            byte[] chunk = new byte[CHUNK_FLOATS * 4];
            int done = 0;
            int kept = 0;
            while (done < count) {
                int n = Math.min(CHUNK_FLOATS, count - done);
                readChunk(chunk, n, count, done, where);
                ByteBuffer.wrap(chunk, 0, n * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(floats, 0, n);
                int end = GoldenTensor.nonZeroEnd(floats, n);
                if (end > 0) {
                    kept = done + end;
                    checkHeld(held + 4L * kept, maxHeld, where);
                    if (out.length < kept) {
                        // kept fits what maxHeld leaves (checked above); doubling must not pass it either.
                        long room = (maxHeld - held) / 4;
                        out = Arrays.copyOf(out, (int) Math.min(Math.min(count, room), Math.max(2L * out.length, kept)));
                    }
                    System.arraycopy(floats, 0, out, done, end); // the zeros between stay as allocated
                }
                done += n;
            }
            return out.length == kept ? out : Arrays.copyOf(out, kept);
        }
    }
}

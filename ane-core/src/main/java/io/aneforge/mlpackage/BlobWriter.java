package io.aneforge.mlpackage;

import io.aneforge.io.IoProblems;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Lays out blobs for {@code weight.bin}: {@link #add} assigns each tensor its offset (identical
 * tensors, same dtype and bytes, are stored once) and {@link #close()} writes the file front to
 * back in one pass, computing its CRC-32 (for the archive's stored entry and the manifest's weights
 * identifier) from the bytes as they go out. The tensors' bytes are the program's own arrays, which
 * the caller holds until the package is written anyway; the file is never assembled in memory, and
 * {@link #writeTo} replays the same bytes from those arrays into the package's archive, so nothing
 * reads the file back. {@link #close()} refuses to finish if the file size on disk disagrees with
 * what was written.
 *
 * <p>No sha256 of the file: hashing every weight byte twice (here and again in the archive's
 * sha256) was 7 % of a default MiniLM convert's CPU; the archive's digest covers these bytes.
 */
public final class BlobWriter implements Closeable {
    /** Pieces handed to the channel: bounds the temporary direct buffer the JDK copies a heap array into. */
    private static final int CHUNK = 1 << 20;

    private final Path path;
    private final FileChannel channel;
    /** Blobs by content, for deduplication: equality is the bytes themselves, not a digest of them. */
    private final Map<Content, Long> offsetsByContent = new HashMap<>();
    private final List<Pending> pending = new ArrayList<>();
    private long end = BlobLayout.HEADER_SIZE;
    private int count;
    private long dataBytes;
    private boolean closed;
    private boolean written;
    private long crc32;

    /** A blob to write at close: its metadata record at {@code meta}, its data right after. */
    private record Pending(long meta, byte[] metadata, byte[] data) {
    }

    /**
     * A blob's dtype and bytes as a map key. The hash samples at most 64 bytes (plus length and dtype),
     * so keying a 20 MB tensor costs nothing; equal hashes fall back to comparing the bytes
     * ({@link Arrays#equals(byte[], byte[])}, vectorized), so two blobs share an offset exactly when
     * their bytes are equal, as before.
     */
    private record Content(DType dtype, byte[] raw, int hash) {
        static Content of(DType dtype, byte[] raw) {
            int h = dtype.hashCode() * 31 + raw.length;
            int step = Math.max(1, raw.length / 64);
            for (int i = 0; i < raw.length; i += step) {
                h = h * 31 + raw[i];
            }
            return new Content(dtype, raw, h);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Content c && c.hash == hash && c.dtype == dtype && Arrays.equals(c.raw, raw);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    public BlobWriter(Path path) {
        this.path = path;
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new MlPackageException("cannot create weight file " + path + ": " + IoProblems.describe(e, path), e);
        }
    }

    /** Places (or reuses) a blob and returns the offset of its metadata record; the bytes go out at {@link #close()}. */
    public long add(Constant c) {
        if (closed) {
            throw new IllegalStateException("blob writer for " + path + " is closed");
        }
        DType d = c.dtype();
        if (d.blobCode() == 0) {
            throw new MlPackageException("dtype " + d.milName() + " cannot be stored in weight.bin (tensor " + c.type() + ")");
        }
        byte[] raw = c.raw();
        Content key = Content.of(d, raw);
        Long existing = offsetsByContent.get(key);
        if (existing != null) {
            return existing;
        }
        long meta = BlobLayout.align(end);
        long padBits = d.bits() < 8 ? raw.length * 8L - c.elementCount() * d.bits() : 0;
        ByteBuffer m = le(BlobLayout.METADATA_SIZE);
        m.putInt(BlobLayout.SENTINEL).putInt(d.blobCode()).putLong(raw.length).putLong(meta + BlobLayout.METADATA_SIZE)
                .putLong(padBits);
        pending.add(new Pending(meta, m.array(), raw));
        end = meta + BlobLayout.METADATA_SIZE + raw.length;
        count++;
        dataBytes += raw.length;
        offsetsByContent.put(key, meta);
        return meta;
    }

    public int count() {
        return count;
    }

    /** Sum of the distinct blobs' data sizes (without headers and padding). */
    public long dataBytes() {
        return dataBytes;
    }

    /** Size of the file, known as soon as the blobs are placed. */
    public long size() {
        return end;
    }

    /** CRC-32 of the written file (what a zip entry of it records); after {@link #close()}. */
    public long crc32() {
        requireClosed();
        return crc32;
    }

    private void requireClosed() {
        if (!written) {
            throw new IllegalStateException("weight file " + path + " is not written yet (close the writer first)");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        CRC32 crc = new CRC32();
        try (channel) {
            long[] position = {0};
            emit((bytes, off, len) -> {
                crc.update(bytes, off, len);
                ByteBuffer b = ByteBuffer.wrap(bytes, off, len);
                while (b.hasRemaining()) {
                    position[0] += channel.write(b, position[0]);
                }
            });
            long size = channel.size();
            if (size != end || position[0] != end || offsetsByContent.size() != count) {
                throw new IllegalStateException("weight file " + path + " is inconsistent: size " + size + " but " + end
                        + " bytes were written, " + count + " blobs counted vs " + offsetsByContent.size() + " recorded");
            }
            channel.force(false);
        } catch (IOException e) {
            pending.clear();
            throw new MlPackageException("cannot finish weight file " + path + ": " + IoProblems.describe(e, path), e);
        }
        crc32 = crc.getValue();
        written = true;
    }

    /**
     * Writes the bytes {@link #close()} wrote to the file, in the same 1 MiB pieces, from the arrays they
     * came from. Only after a successful close. The writer keeps the program's arrays reachable for this,
     * so callers drop it with the program.
     */
    public void writeTo(OutputStream out) throws IOException {
        requireClosed();
        emit(out::write);
    }

    /** Receives the file's bytes in order. */
    private interface Sink {
        void accept(byte[] bytes, int off, int len) throws IOException;
    }

    /** The file front to back: header, then per blob the alignment padding, its metadata record and its data. */
    private void emit(Sink sink) throws IOException {
        ByteBuffer header = le(BlobLayout.HEADER_SIZE);
        header.putInt(count).putInt(BlobLayout.VERSION);
        long position = emit(header.array(), 0, sink);
        for (Pending p : pending) {
            if (p.meta() > position) {
                position = emit(new byte[(int) (p.meta() - position)], position, sink);
            }
            position = emit(p.metadata(), position, sink);
            position = emit(p.data(), position, sink);
        }
    }

    /** Hands {@code bytes} over in pieces of at most {@link #CHUNK}; returns the position after them. */
    private static long emit(byte[] bytes, long position, Sink sink) throws IOException {
        for (int off = 0; off < bytes.length; off += CHUNK) {
            sink.accept(bytes, off, Math.min(CHUNK, bytes.length - off));
        }
        return position + bytes.length;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}

package io.aneforge.mlpackage;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Streams blobs into {@code weight.bin}: each tensor is written as soon as it is added
 * (the file is never held in memory) and identical tensors (same dtype and bytes) are
 * stored once. {@link #close()} writes the blob count into the header and refuses to
 * finish if the file size or count disagree with what was written.
 */
public final class BlobWriter implements Closeable {
    private final Path path;
    private final FileChannel channel;
    private final Map<String, Long> offsetsByContent = new HashMap<>();
    private long end;
    private int count;
    private long dataBytes;
    private boolean closed;

    public BlobWriter(Path path) {
        this.path = path;
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
            ByteBuffer header = le(BlobLayout.HEADER_SIZE);
            header.putInt(0).putInt(BlobLayout.VERSION); // count is patched on close
            writeFully(header.clear(), 0);
            end = BlobLayout.HEADER_SIZE;
        } catch (IOException e) {
            throw new MlPackageException("cannot create weight file " + path + ": " + e.getMessage(), e);
        }
    }

    /** Appends (or reuses) a blob and returns the offset of its metadata record. */
    public long add(Constant c) {
        if (closed) {
            throw new IllegalStateException("blob writer for " + path + " is closed");
        }
        DType d = c.dtype();
        if (d.blobCode() == 0) {
            throw new MlPackageException("dtype " + d.milName() + " cannot be stored in weight.bin (tensor " + c.type() + ")");
        }
        byte[] raw = c.raw();
        String key = d.name() + ":" + sha256(raw);
        Long existing = offsetsByContent.get(key);
        if (existing != null) {
            return existing;
        }
        long meta = BlobLayout.align(end);
        long padBits = d.bits() < 8 ? raw.length * 8L - c.elementCount() * d.bits() : 0;
        ByteBuffer m = le(BlobLayout.METADATA_SIZE);
        m.putInt(BlobLayout.SENTINEL).putInt(d.blobCode()).putLong(raw.length).putLong(meta + BlobLayout.METADATA_SIZE)
                .putLong(padBits);
        try {
            if (meta > end) {
                writeFully(ByteBuffer.allocate((int) (meta - end)), end);
            }
            writeFully(m.clear(), meta);
            writeFully(ByteBuffer.wrap(raw), meta + BlobLayout.METADATA_SIZE);
        } catch (IOException e) {
            throw new MlPackageException("cannot write weight file " + path + ": " + e.getMessage(), e);
        }
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

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (channel) {
            ByteBuffer c = le(4).putInt(count);
            writeFully(c.clear(), 0);
            long size = channel.size();
            if (size != end || offsetsByContent.size() != count) {
                throw new IllegalStateException("weight file " + path + " is inconsistent: size " + size + " but " + end
                        + " bytes were written, " + count + " blobs counted vs " + offsetsByContent.size() + " recorded");
            }
            channel.force(false);
        } catch (IOException e) {
            throw new MlPackageException("cannot finish weight file " + path + ": " + e.getMessage(), e);
        }
    }

    private void writeFully(ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            p += channel.write(b, p);
        }
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

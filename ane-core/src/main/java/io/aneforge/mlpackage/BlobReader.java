package io.aneforge.mlpackage;

import io.aneforge.io.IoProblems;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.TensorType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Resolves {@code BlobFileValue}s through their metadata records, checking the header,
 * the sentinel, the dtype, the size and the data offset before reading any data.
 *
 * <p>A file under 2 GiB is mapped and each blob copied once, from the page cache into its
 * constant's array: a channel read into a heap buffer goes through a temporary direct buffer, and
 * then into the constant, three copies of every weight (a MiniLM package's 43 MB, read back by
 * every fidelity check).
 */
public final class BlobReader implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final int count;
    private final ByteBuffer mapped; // null for files of 2 GiB and more

    public BlobReader(Path path) {
        this.path = path;
        FileChannel opened = null;
        try {
            opened = FileChannel.open(path, StandardOpenOption.READ);
            this.channel = opened;
            this.size = channel.size();
            this.mapped = map(channel, size);
            if (size < BlobLayout.HEADER_SIZE) {
                throw new MlPackageException(path + " is " + size + " bytes, shorter than the " + BlobLayout.HEADER_SIZE + "-byte blob storage header");
            }
            ByteBuffer h = read(0, 8);
            count = h.getInt();
            int version = h.getInt();
            if (version != BlobLayout.VERSION) {
                throw new MlPackageException(path + ": blob storage version " + version + " is not supported (expected " + BlobLayout.VERSION + ")");
            }
        } catch (IOException | InternalError | RuntimeException e) {
            if (opened != null) {
                try {
                    opened.close();
                } catch (IOException ignored) {
                    // the error below is the one to report
                }
            }
            if (e instanceof MlPackageException m) {
                throw m;
            }
            throw new MlPackageException("cannot read weight file " + path + ": " + IoProblems.describe(e, path), e);
        }
    }

    /** The whole file mapped read-only, or null where it is 2 GiB or more or cannot be mapped (then channel reads). */
    private static ByteBuffer map(FileChannel channel, long size) {
        if (size >= Integer.MAX_VALUE) {
            return null;
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    public int count() {
        return count;
    }

    /** Reads the blob whose metadata record is at {@code offset}, expecting {@code type}. */
    public Constant read(long offset, TensorType type, String what) {
        if (offset < BlobLayout.HEADER_SIZE || offset % BlobLayout.ALIGNMENT != 0 || offset + BlobLayout.METADATA_SIZE > size) {
            throw new MlPackageException(what + ": blob offset " + offset + " in " + path.getFileName() + " is not a 64-aligned metadata record inside the file ("
                    + size + " bytes)" + hint(offset));
        }
        try {
            ByteBuffer m = read(offset, BlobLayout.METADATA_SIZE);
            int sentinel = m.getInt();
            int dtype = m.getInt();
            long sizeInBytes = m.getLong();
            long dataOffset = m.getLong();
            if (sentinel != BlobLayout.SENTINEL) {
                throw new MlPackageException(what + ": no blob metadata sentinel 0xDEADBEEF at offset " + offset + " of "
                        + path.getFileName() + " (found 0x" + Integer.toHexString(sentinel).toUpperCase() + ")" + hint(offset));
            }
            DType expected = type.dtype();
            if (dtype != expected.blobCode()) {
                throw new MlPackageException(what + ": blob at offset " + offset + " has dtype code " + dtype + " but the model declares "
                        + expected.milName() + " (code " + expected.blobCode() + ")");
            }
            long need = expected.byteSize(type.elementCount());
            if (sizeInBytes != need) {
                throw new MlPackageException(what + ": blob at offset " + offset + " holds " + sizeInBytes + " bytes but type " + type
                        + " needs " + need);
            }
            if (dataOffset != offset + BlobLayout.METADATA_SIZE || dataOffset + sizeInBytes > size) {
                throw new MlPackageException(what + ": blob at offset " + offset + " points its data at " + dataOffset
                        + " (expected " + (offset + BlobLayout.METADATA_SIZE) + ", within the file's " + size + " bytes)");
            }
            ByteBuffer data = read(dataOffset, Math.toIntExact(sizeInBytes));
            byte[] raw = new byte[(int) sizeInBytes];
            data.get(raw);
            return Constant.ofRaw(type, raw);
        } catch (IOException e) {
            throw new MlPackageException("cannot read weight file " + path + ": " + IoProblems.describe(e, path), e);
        } catch (InternalError e) { // a mapped file cut short under us: the access faults
            throw new MlPackageException("cannot read weight file " + path + " (did it change while being read?): "
                    + e.getMessage(), e);
        }
    }

    private String hint(long offset) {
        if (offset >= BlobLayout.METADATA_SIZE && offset - BlobLayout.METADATA_SIZE >= BlobLayout.HEADER_SIZE
                && offset - BlobLayout.METADATA_SIZE + 4 <= size) {
            try {
                if (read(offset - BlobLayout.METADATA_SIZE, 4).getInt() == BlobLayout.SENTINEL) {
                    return "; BlobFileValue.offset must point at the metadata record, not at the data: the record for this data is at offset "
                            + (offset - BlobLayout.METADATA_SIZE);
                }
            } catch (IOException | InternalError ignored) {
                // the main message stands on its own
            }
        }
        return "";
    }

    private ByteBuffer read(long position, int length) throws IOException {
        if (mapped != null) {
            if (position + length > mapped.capacity()) {
                throw new MlPackageException(path + " ends at " + mapped.capacity() + " while reading " + length + " bytes at " + position);
            }
            return mapped.slice((int) position, length).order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        long p = position;
        while (b.hasRemaining()) {
            int n = channel.read(b, p);
            if (n < 0) {
                throw new MlPackageException(path + " ends at " + p + " while reading " + length + " bytes at " + position);
            }
            p += n;
        }
        return b.flip();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only channel
        }
    }
}

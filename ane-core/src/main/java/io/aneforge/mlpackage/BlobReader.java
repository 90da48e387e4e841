package io.aneforge.mlpackage;

import io.aneforge.io.IoProblems;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.TensorType;
import io.aneforge.memory.Heap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Resolves {@code BlobFileValue}s through their metadata records, checking the header,
 * the sentinel, the dtype, the size and the data offset before reading any data.
 *
 * <p>A file under 2 GiB is mapped and each blob copied once, from the page cache into its
 * constant's array: a channel read into a heap buffer goes through a temporary direct buffer, and
 * then into the constant, three copies of every weight (a MiniLM package's 43 MB, read back by
 * every fidelity check).
 *
 * <p>What a package makes the reader allocate is bounded by the file: a blob named by several consts is read
 * once and shared, blobs may not overlap (a crafted file could otherwise name the same gigabyte through a
 * million records), and the total must fit in the heap. Offsets are checked without overflowing.
 */
public final class BlobReader implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final int count;
    private final ByteBuffer mapped; // null for files of 2 GiB and more
    /** The largest blob: one Java array (the VM refuses arrays of the last few indices). */
    static final long MAX_BLOB_BYTES = Integer.MAX_VALUE - 8;
    private final Map<Long, byte[]> dataByOffset = new HashMap<>(); // record offset -> its data, shared by every const naming it
    private final TreeMap<Long, Long> extents = new TreeMap<>(); // record offset -> end of its data
    private long allocated;
    private final long budget;

    public BlobReader(Path path) {
        this(path, Heap.maxBytes());
    }

    /** {@code budget}: the most bytes of blob data to hold at once (the heap; tests pass less). */
    BlobReader(Path path, long budget) {
        this.path = path;
        this.budget = budget;
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
            throw MlPackageException.localIo("cannot read weight file " + path + ": " + IoProblems.describe(e, path), e);
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

    /**
     * Reads the blob whose metadata record is at {@code offset}, expecting {@code type}. A blob read before (the
     * writer stores equal constants once, and several consts may name it) is not read again: its bytes are shared.
     * Blobs may not overlap, so everything read together is at most the file's size; that must fit in the heap.
     */
    public Constant read(long offset, TensorType type, String what) {
        // offset > size - METADATA_SIZE rather than offset + METADATA_SIZE > size, which overflows for huge offsets
        if (offset < BlobLayout.HEADER_SIZE || offset % BlobLayout.ALIGNMENT != 0 || offset > size - BlobLayout.METADATA_SIZE) {
            throw new MlPackageException(what + ": blob offset " + offset + " in " + path.getFileName() + " is not a 64-aligned metadata record inside the file ("
                    + size + " bytes)" + hint(offset) + truncationHint(offset));
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
            if (dataOffset != offset + BlobLayout.METADATA_SIZE) {
                throw new MlPackageException(what + ": blob at offset " + offset + " points its data at " + dataOffset
                        + " (expected " + (offset + BlobLayout.METADATA_SIZE) + "): " + path.getFileName() + " is damaged");
            }
            if (sizeInBytes > size - dataOffset) {
                // A sound record whose data runs past the end: the file was cut short (an interrupted copy or download).
                throw new MlPackageException(what + ": " + path.getFileName() + " is truncated: the blob at offset " + offset
                        + " needs the file to be at least " + (dataOffset + sizeInBytes) + " bytes, it has " + size
                        + ": the package is damaged; convert or pull it again");
            }
            byte[] shared = dataByOffset.get(offset);
            if (shared != null) {
                return Constant.ofRaw(type, shared);
            }
            if (sizeInBytes > MAX_BLOB_BYTES) {
                throw new MlPackageException(what + ": blob at offset " + offset + " holds " + sizeInBytes + " bytes (type " + type
                        + "); a constant is at most " + MAX_BLOB_BYTES + " bytes (one Java array)");
            }
            long end = dataOffset + sizeInBytes;
            var before = extents.floorEntry(offset);
            var after = extents.ceilingEntry(offset);
            Long other = before != null && before.getValue() > offset ? before.getKey()
                    : after != null && after.getKey() < end ? after.getKey() : null;
            if (other != null) {
                throw new MlPackageException(what + ": blob at offset " + offset + " (bytes " + offset + ".." + end
                        + ") overlaps the blob at offset " + other + " (bytes " + other + ".." + extents.get(other) + ") in "
                        + path.getFileName() + ": blobs never share bytes, so the file is damaged");
            }
            if (allocated + sizeInBytes > budget) {
                throw new MlPackageException.OutOfHeap(what + ": the weights of " + path.getFileName() + " read so far and this blob take "
                        + Heap.describe(allocated + sizeInBytes) + ", more than this JVM's heap of at most "
                        + Heap.describe(budget), size, null);
            }
            byte[] raw;
            try {
                raw = new byte[(int) sizeInBytes];
            } catch (OutOfMemoryError e) { // only this array failed; nothing is half-built
                throw new MlPackageException.OutOfHeap(what + ": the " + sizeInBytes + "-byte blob at offset " + offset + " of "
                        + path.getFileName() + " does not fit in the free heap (" + Heap.describe(allocated)
                        + " of weights read so far, at most " + Heap.describe(budget) + " in all)", 2 * size, e);
            }
            readInto(dataOffset, raw);
            dataByOffset.put(offset, raw);
            extents.put(offset, end);
            allocated += sizeInBytes;
            return Constant.ofRaw(type, raw);
        } catch (IOException e) {
            throw MlPackageException.localIo("cannot read weight file " + path + ": " + IoProblems.describe(e, path), e);
        } catch (InternalError e) { // a mapped file cut short under us: the access faults
            throw MlPackageException.localIo("cannot read weight file " + path + " (did it change while being read?): "
                    + e.getMessage(), e);
        }
    }

    /**
     * A well-formed offset past the end: most often the file was cut short (an interrupted copy or download) after
     * the blobs read so far, though a model naming a blob that was never written reads the same.
     */
    private String truncationHint(long offset) {
        if (offset >= BlobLayout.HEADER_SIZE && offset % BlobLayout.ALIGNMENT == 0 && offset > size - BlobLayout.METADATA_SIZE) {
            return ": it lies past the end of " + path.getFileName() + ", which is truncated (or the model names a blob"
                    + " that is not there): the package is damaged; convert or pull it again";
        }
        return "";
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

    /** Copies {@code dst.length} bytes at {@code position} straight into {@code dst} (no intermediate buffer). */
    private void readInto(long position, byte[] dst) throws IOException {
        if (mapped != null) {
            if (position + dst.length > mapped.capacity()) {
                throw new MlPackageException(path + " ends at " + mapped.capacity() + " while reading " + dst.length + " bytes at " + position);
            }
            mapped.get((int) position, dst);
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(dst);
        long p = position;
        while (b.hasRemaining()) {
            int n = channel.read(b, p);
            if (n < 0) {
                throw new MlPackageException(path + " ends at " + p + " while reading " + dst.length + " bytes at " + position);
            }
            p += n;
        }
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

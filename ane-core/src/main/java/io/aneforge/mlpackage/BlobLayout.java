package io.aneforge.mlpackage;

/**
 * The layout of {@code weight.bin}, blob storage version 2 (little-endian), as named
 * constants: a 64-byte header ({@code u32 count, u32 version, 7 x u64 0}), then per
 * blob a 64-byte metadata record at a 64-aligned offset ({@code u32 sentinel, u32 dtype,
 * u64 sizeInBytes, u64 dataOffset, u64 paddingSizeInBits, 4 x u64 0}) followed at once
 * by the data. {@code BlobFileValue.offset} points at the metadata record.
 */
public final class BlobLayout {
    public static final int HEADER_SIZE = 64;
    public static final int METADATA_SIZE = 64;
    public static final int ALIGNMENT = 64;
    public static final int VERSION = 2;
    public static final int SENTINEL = 0xDEADBEEF;
    /** How model.mlmodel names the weight file. */
    public static final String MODEL_PATH_FILE = "@model_path/weights/weight.bin";

    private BlobLayout() {
    }

    public static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }
}

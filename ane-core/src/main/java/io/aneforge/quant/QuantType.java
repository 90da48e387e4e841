package io.aneforge.quant;

/** Integer storage type of quantized weights, with its Core ML blob dtype. */
public enum QuantType {
    INT8(8, -128, 127, 4),
    UINT8(8, 0, 255, 3),
    INT4(4, -8, 7, 8),
    UINT4(4, 0, 15, 11);

    private final int bits;
    private final int min;
    private final int max;
    private final int blobDtype;

    QuantType(int bits, int min, int max, int blobDtype) {
        this.bits = bits;
        this.min = min;
        this.max = max;
        this.blobDtype = blobDtype;
    }

    public int bits() {
        return bits;
    }

    public int min() {
        return min;
    }

    public int max() {
        return max;
    }

    public boolean signed() {
        return min < 0;
    }

    /** Blob dtype code in weight.bin (COREML_FORMAT.md §3). */
    public int blobDtype() {
        return blobDtype;
    }

    /** Reads a stored value back as an int (bytes hold the value itself, unsigned types masked). */
    int decode(byte b) {
        return signed() ? b : b & 0xff;
    }
}

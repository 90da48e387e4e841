package io.aneforge.quant;

/**
 * What quantizing one tensor did to it.
 *
 * @param tensor       tensor name
 * @param scheme       {@link QuantSpec#label()} of what was applied ({@code fp16} when kept in FP16)
 * @param blockSize    block size used, 0 when not per-block
 * @param maxAbsError  max |w − dequantized w|
 * @param sqnrDb       10·log10(Σw² / Σ(w − ŵ)²), capped at {@link #MAX_SQNR_DB} (exact or all-zero tensors)
 * @param bytesBefore  FP32 bytes of the source tensor
 * @param bytesAfter   stored bytes ({@link EncodedWeight#storedBytes()})
 * @param note         why the requested scheme was not applied, or empty
 */
public record QuantReport(String tensor, String scheme, int blockSize, double maxAbsError, double sqnrDb,
                          long bytesBefore, long bytesAfter, String note) {

    /** Cap that keeps the report JSON-friendly (no Infinity) when the error is zero. */
    public static final double MAX_SQNR_DB = 200.0;

    public QuantReport {
        if (tensor == null || scheme == null || note == null) {
            throw new IllegalArgumentException("tensor, scheme and note are required (note may be empty)");
        }
        if (!(maxAbsError >= 0) || Double.isInfinite(maxAbsError)) {
            throw new IllegalArgumentException("maxAbsError must be finite and >= 0, got " + maxAbsError);
        }
        if (Double.isNaN(sqnrDb) || sqnrDb > MAX_SQNR_DB || Double.isInfinite(sqnrDb)) {
            throw new IllegalArgumentException("sqnrDb must be finite and <= " + MAX_SQNR_DB + ", got " + sqnrDb);
        }
        if (blockSize < 0 || bytesBefore < 0 || bytesAfter < 0) {
            throw new IllegalArgumentException("blockSize and byte counts must be >= 0");
        }
    }

    /** Measures {@code encoded} against the FP32 source. */
    public static QuantReport measure(float[] source, EncodedWeight encoded, String note) {
        float[] approx = encoded.dequantize().data();
        if (approx.length != source.length) {
            throw new IllegalStateException("dequantized '" + encoded.name() + "' has " + approx.length
                    + " values, source has " + source.length);
        }
        double signal = 0;
        double noise = 0;
        double maxAbs = 0;
        for (int i = 0; i < source.length; i++) {
            double w = source[i];
            double e = w - approx[i];
            signal += w * w;
            noise += e * e;
            maxAbs = Math.max(maxAbs, Math.abs(e));
        }
        double sqnr = noise == 0 ? MAX_SQNR_DB : Math.min(MAX_SQNR_DB, 10 * Math.log10(signal / noise));
        int block = encoded instanceof QuantizedWeight q ? q.spec().blockSize() : 0;
        return new QuantReport(encoded.name(), encoded.scheme(), block, maxAbs, sqnr,
                4L * source.length, encoded.storedBytes(), note);
    }
}

package io.aneforge.quant;

import io.aneforge.vector.VectorPath;

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
        double[] chains = VectorPath.enabled() ? VectorErrorSums.chains(source, approx) : chains(source, approx);
        double signal = (chains[0] + chains[1]) + (chains[2] + chains[3]);
        double noise = (chains[4] + chains[5]) + (chains[6] + chains[7]);
        double maxAbs = Math.max(Math.max(chains[8], chains[9]), Math.max(chains[10], chains[11]));
        double sqnr = noise == 0 ? MAX_SQNR_DB : Math.min(MAX_SQNR_DB, 10 * Math.log10(signal / noise));
        int block = encoded instanceof QuantizedWeight q ? q.spec().blockSize() : 0;
        return new QuantReport(encoded.name(), encoded.scheme(), block, maxAbs, sqnr,
                4L * source.length, encoded.storedBytes(), note);
    }

    /**
     * Σw², Σ(w − ŵ)² and max |w − ŵ| in four chains each (elements {@code i ≡ c mod 4} in chain c,
     * the tail in chain 0): one chain of dependent double additions costs a full add latency per
     * element, which made this measurement as slow as the quantization itself. Returns
     * {@code {s0..s3, n0..n3, m0..m3}}; {@link VectorErrorSums} computes the same chains in lanes.
     */
    static double[] chains(float[] source, float[] approx) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double n0 = 0, n1 = 0, n2 = 0, n3 = 0;
        double m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        int i = 0;
        for (; i + 4 <= source.length; i += 4) {
            double w0 = source[i], w1 = source[i + 1], w2 = source[i + 2], w3 = source[i + 3];
            double e0 = w0 - approx[i], e1 = w1 - approx[i + 1], e2 = w2 - approx[i + 2], e3 = w3 - approx[i + 3];
            s0 += w0 * w0;
            s1 += w1 * w1;
            s2 += w2 * w2;
            s3 += w3 * w3;
            n0 += e0 * e0;
            n1 += e1 * e1;
            n2 += e2 * e2;
            n3 += e3 * e3;
            m0 = Math.max(m0, Math.abs(e0));
            m1 = Math.max(m1, Math.abs(e1));
            m2 = Math.max(m2, Math.abs(e2));
            m3 = Math.max(m3, Math.abs(e3));
        }
        return tail(source, approx, i, new double[] {s0, s1, s2, s3, n0, n1, n2, n3, m0, m1, m2, m3});
    }

    /** Adds elements {@code [from, length)} to chain 0 of {@code chains}, as {@link #chains} does after its whole quads. */
    static double[] tail(float[] source, float[] approx, int from, double[] chains) {
        for (int i = from; i < source.length; i++) {
            double w = source[i];
            double e = w - approx[i];
            chains[0] += w * w;
            chains[4] += e * e;
            chains[8] = Math.max(chains[8], Math.abs(e));
        }
        return chains;
    }
}

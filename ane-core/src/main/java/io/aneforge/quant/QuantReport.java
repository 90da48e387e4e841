package io.aneforge.quant;

import io.aneforge.tensor.FloatTensor;
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

    /**
     * Measures {@code encoded} against the FP32 source, a piece of {@link #CHUNK} elements at a time: the
     * dequantized values are never held whole (the embedding table alone would be another 47 MB), and
     * int8/int4 weights with whole vectors per group are dequantized in vector lanes as they are compared.
     */
    public static QuantReport measure(float[] source, EncodedWeight encoded, String note) {
        long count = FloatTensor.elementCount(encoded.shape());
        if (count != source.length) {
            throw new IllegalStateException("encoded '" + encoded.name() + "' has " + count
                    + " values, source has " + source.length);
        }
        double[] chains = new double[3 * CHAINS];
        boolean lanes = VectorPath.enabled() && VectorErrorSums.usable();
        if (lanes && encoded instanceof QuantizedWeight q && VectorErrorSums.fused(q)) {
            VectorErrorSums.quantized(source, q, chains);
        } else {
            float[] approx = new float[Math.min(CHUNK, source.length)];
            for (int from = 0; from < source.length; from += CHUNK) {
                int n = Math.min(CHUNK, source.length - from);
                encoded.dequantize(from, n, approx);
                if (lanes) {
                    VectorErrorSums.chunk(source, from, approx, n, chains);
                } else {
                    chunk(source, from, approx, n, chains);
                }
            }
        }
        return of(source.length, encoded, note, chains);
    }

    /** The report of {@code encoded} from its error sums ({@link #chunk}'s chains) over {@code count} source values. */
    static QuantReport of(int count, EncodedWeight encoded, String note, double[] chains) {
        double signal = sum(chains, 0);
        double noise = sum(chains, CHAINS);
        double maxAbs = 0;
        for (int c = 0; c < CHAINS; c++) {
            maxAbs = Math.max(maxAbs, chains[2 * CHAINS + c]);
        }
        double sqnr = noise == 0 ? MAX_SQNR_DB : Math.min(MAX_SQNR_DB, 10 * Math.log10(signal / noise));
        int block = encoded instanceof QuantizedWeight q ? q.spec().blockSize() : 0;
        return new QuantReport(encoded.name(), encoded.scheme(), block, maxAbs, sqnr,
                4L * count, encoded.storedBytes(), note);
    }

    /*
     * The sums, defined so that every machine gets the same bits (the report is part of variants.json,
     * which a conversion reproduces byte for byte): element i of the tensor goes to chain i mod 16; within
     * each piece of CHUNK elements a chain adds in float (w·w, e·e with e = w − ŵ, each product rounded
     * and then added, no fused multiply-add) and keeps max |e|; at the end of the piece each chain's float
     * sums are added to its double, so float sums never run over more than 64 elements (relative error
     * far below what a report in dB shows). The scalar loop below is the definition; VectorErrorSums does
     * the same operations in vector lanes of the preferred shape: one pass of 16 lanes on AVX-512, two of
     * 8 on AVX2 (other machines run the definition). Always the preferred shape, never a second one: a
     * report in 256-bit vectors next to 512-bit GEMM kernels made C2 compile the GEMM kernels with boxed
     * vectors in cold runs (`./aneforge convert` took 38–40 s of CPU instead of 23–26; docs/converter.md,
     * sixth round).
     */

    /** Chains per sum; element i goes to chain {@code i % CHAINS} (16: one AVX-512 vector of floats, or two AVX2 ones). */
    static final int CHAINS = 16;
    /** Elements per piece: float chain sums are folded into the double ones at every multiple of this. */
    static final int CHUNK = 1024;

    /**
     * Adds the piece {@code source[from, from + n)} (a multiple of {@link #CHUNK} from, n ≤ CHUNK) against
     * {@code approx[0, n)} to {@code chains} = {Σw² ×16, Σe² ×16, max|e| ×16}.
     */
    static void chunk(float[] source, int from, float[] approx, int n, double[] chains) {
        float[] s = new float[CHAINS];
        float[] q = new float[CHAINS];
        float[] m = new float[CHAINS];
        add(source, from, approx, 0, n, s, q, m);
        fold(s, q, m, chains);
    }

    /** Elements {@code [i0, n)} of a piece into its float chains (element i into chain {@code i % CHAINS}). */
    static void add(float[] source, int from, float[] approx, int i0, int n, float[] s, float[] q, float[] m) {
        for (int i = i0; i < n; i++) {
            int c = i % CHAINS;
            float w = source[from + i];
            float e = w - approx[i];
            s[c] += w * w;
            q[c] += e * e;
            m[c] = Math.max(m[c], Math.abs(e));
        }
    }

    /** A piece's float chains into the double ones. */
    static void fold(float[] s, float[] q, float[] m, double[] chains) {
        for (int c = 0; c < CHAINS; c++) {
            chains[c] += s[c];
            chains[CHAINS + c] += q[c];
            chains[2 * CHAINS + c] = Math.max(chains[2 * CHAINS + c], m[c]);
        }
    }

    /** The chains from {@code at} added pairwise, in a fixed order. */
    private static double sum(double[] chains, int at) {
        double[] level = java.util.Arrays.copyOfRange(chains, at, at + CHAINS);
        for (int n = CHAINS; n > 1; n /= 2) {
            for (int i = 0; i < n / 2; i++) {
                level[i] = level[2 * i] + level[2 * i + 1];
            }
        }
        return level[0];
    }
}

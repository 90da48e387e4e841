package io.aneforge.eval;

import io.aneforge.tensor.FloatTensor;

/**
 * Computes {@link FidelityReport}s. A tensor is read as vectors along its hidden axis: for
 * {@code (B, S, C)} that is the last axis (one vector per token); for the ANE layout
 * {@code (B, C, 1, S)} it is axis 1. All sums are in double.
 */
public final class Fidelity {

    private Fidelity() {
    }

    /** Hidden states: vectors along the last axis. */
    public static FidelityReport compare(FloatTensor reference, FloatTensor candidate) {
        return compare(reference, candidate, -1, false);
    }

    /** Logits: vectors along the last axis, plus top-1 agreement of the argmax per position. */
    public static FidelityReport compareLogits(FloatTensor reference, FloatTensor candidate) {
        return compare(reference, candidate, -1, true);
    }

    /**
     * @param hiddenAxis axis holding the vector (negative counts from the end)
     * @param top1       also measure argmax agreement along {@code hiddenAxis}
     */
    public static FidelityReport compare(FloatTensor reference, FloatTensor candidate, int hiddenAxis, boolean top1) {
        if (!java.util.Arrays.equals(reference.shape(), candidate.shape())) {
            throw new IllegalArgumentException("fidelity: candidate shape " + candidate.shapeString()
                    + " differs from reference shape " + reference.shapeString());
        }
        int[] s = reference.shape();
        int rank = s.length;
        int axis = hiddenAxis < 0 ? hiddenAxis + rank : hiddenAxis;
        if (axis < 0 || axis >= rank) {
            throw new IllegalArgumentException("fidelity: hidden axis " + hiddenAxis + " out of range for shape "
                    + reference.shapeString());
        }
        float[] r = reference.data();
        float[] c = candidate.data();
        checkFinite("reference", r);
        checkFinite("candidate", c);
        int hidden = s[axis];
        int inner = 1;
        for (int d = axis + 1; d < rank; d++) {
            inner *= s[d];
        }
        int outer = hidden == 0 || inner == 0 ? 0 : r.length / (hidden * inner);
        int positions = outer * inner;
        if (positions == 0 || hidden == 0) {
            throw new IllegalArgumentException("fidelity: nothing to compare in shape " + reference.shapeString());
        }
        double[] pooledR = new double[hidden];
        double[] pooledC = new double[hidden];
        double cosSum = 0;
        double cosMin = 1;
        int agree = 0;
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                int base = o * hidden * inner + j;
                double dot = 0;
                double nr = 0;
                double nc = 0;
                int argR = 0;
                int argC = 0;
                for (int h = 0; h < hidden; h++) {
                    int i = base + h * inner;
                    double x = r[i];
                    double y = c[i];
                    dot += x * y;
                    nr += x * x;
                    nc += y * y;
                    pooledR[h] += x;
                    pooledC[h] += y;
                    if (r[i] > r[base + argR * inner]) {
                        argR = h;
                    }
                    if (c[i] > c[base + argC * inner]) {
                        argC = h;
                    }
                }
                double cos = cosine(dot, nr, nc);
                cosSum += cos;
                cosMin = Math.min(cosMin, cos);
                if (argR == argC) {
                    agree++;
                }
            }
        }
        double dot = 0;
        double nr = 0;
        double nc = 0;
        for (int h = 0; h < hidden; h++) {
            dot += pooledR[h] * pooledC[h];
            nr += pooledR[h] * pooledR[h];
            nc += pooledC[h] * pooledC[h];
        }
        double maxAbs = 0;
        double sumAbs = 0;
        double sumSq = 0;
        double peak = 0;
        for (int i = 0; i < r.length; i++) {
            double e = Math.abs((double) c[i] - r[i]);
            maxAbs = Math.max(maxAbs, e);
            sumAbs += e;
            sumSq += e * e;
            peak = Math.max(peak, Math.abs(r[i]));
        }
        double rmse = Math.sqrt(sumSq / r.length);
        double psnr;
        if (rmse == 0) {
            psnr = FidelityReport.MAX_PSNR_DB;
        } else if (peak == 0) {
            psnr = -FidelityReport.MAX_PSNR_DB; // all-zero reference: any error is infinitely bad
        } else {
            psnr = Math.max(-FidelityReport.MAX_PSNR_DB, Math.min(FidelityReport.MAX_PSNR_DB, 20 * Math.log10(peak / rmse)));
        }
        return new FidelityReport(positions, hidden, Math.min(cosSum / positions, 1.0), cosMin,
                cosine(dot, nr, nc), maxAbs, Math.min(sumAbs / r.length, maxAbs), psnr,
                top1 ? (double) agree / positions : null);
    }

    /** Cosine of two vectors; two zero vectors are identical (1), one zero vector is orthogonal (0). */
    private static double cosine(double dot, double nr, double nc) {
        if (nr == 0 && nc == 0) {
            return 1;
        }
        if (nr == 0 || nc == 0) {
            return 0;
        }
        return Math.max(-1, Math.min(1, dot / Math.sqrt(nr * nc)));
    }

    /**
     * Refuses non-finite outputs, saying what produced them: the reference is the unconverted model in FP32, so its
     * overflow is the source's (weights too large for FP32 arithmetic), not a variant's; the candidate is checked
     * after it, so its overflow is the variant's (FP16's range is ±65504).
     */
    private static void checkFinite(String which, float[] d) {
        for (int i = 0; i < d.length; i++) {
            if (!Float.isFinite(d[i])) {
                throw new IllegalArgumentException(which.equals("reference")
                        ? "fidelity: reference output (the unconverted model computed in FP32) has a non-finite value ("
                        + d[i] + ") at flat index " + i + ": the source model itself overflows FP32 arithmetic on the"
                        + " samples, so its weights hold values far too large (a broken or mis-scaled checkpoint):"
                        + " fix the weights or use another source"
                        : "fidelity: " + which + " output has a non-finite value (" + d[i] + ") at flat index " + i
                        + " where the reference is finite; an FP16 variant that overflows produces this — check"
                        + " activations beyond ±65504 (e.g. masks of -inf instead of -1e4)");
            }
        }
    }
}

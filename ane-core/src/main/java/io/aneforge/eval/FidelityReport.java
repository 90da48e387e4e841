package io.aneforge.eval;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How close a candidate's outputs are to the FP32 golden outputs. Plain numeric fields so
 * the record serializes to JSON as is (no NaN or Infinity: PSNR is capped, top-1 is null
 * when not measured).
 *
 * @param positions      vectors compared (tokens × samples)
 * @param hiddenSize     length of each vector (the hidden axis)
 * @param cosineMean     mean over positions of the cosine similarity of each vector
 * @param cosineMin      worst position's cosine similarity
 * @param cosinePooled   cosine similarity of the mean-pooled vectors (mean over positions)
 * @param maxAbsError    max |candidate − reference| over all elements
 * @param meanAbsError   mean |candidate − reference|
 * @param psnrDb         20·log10(peak / RMSE) with peak = max |reference|; {@link #MAX_PSNR_DB} when identical
 * @param top1Agreement  fraction of positions whose argmax over the last axis agrees (logits), or null
 * @param comparedPositions null when every real token of the samples compared was compared; else, per sample id, the
 *                       sequence positions compared: the golden data held this output at those positions only (golden
 *                       format 3, {@code io.aneforge.eval.golden.HeldPositions}), so the metrics cover them alone
 *                       (left out of JSON when null, so reports without it keep their bytes)
 */
public record FidelityReport(int positions, int hiddenSize, double cosineMean, double cosineMin, double cosinePooled,
                             double maxAbsError, double meanAbsError, double psnrDb, Double top1Agreement,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, List<Integer>> comparedPositions) {

    /** PSNR reported for identical outputs (keeps the value finite for JSON). */
    public static final double MAX_PSNR_DB = 200.0;

    public FidelityReport {
        if (positions < 1 || hiddenSize < 1) {
            throw new IllegalArgumentException("positions and hiddenSize must be >= 1, got " + positions + ", " + hiddenSize);
        }
        checkCosine("cosineMean", cosineMean);
        checkCosine("cosineMin", cosineMin);
        checkCosine("cosinePooled", cosinePooled);
        if (cosineMin > cosineMean + 1e-12) {
            throw new IllegalArgumentException("cosineMin " + cosineMin + " exceeds cosineMean " + cosineMean);
        }
        checkNonNegative("maxAbsError", maxAbsError);
        checkNonNegative("meanAbsError", meanAbsError);
        if (meanAbsError > maxAbsError) {
            throw new IllegalArgumentException("meanAbsError " + meanAbsError + " exceeds maxAbsError " + maxAbsError);
        }
        if (!Double.isFinite(psnrDb) || psnrDb > MAX_PSNR_DB) {
            throw new IllegalArgumentException("psnrDb must be finite and <= " + MAX_PSNR_DB + ", got " + psnrDb);
        }
        if (top1Agreement != null && !(top1Agreement >= 0 && top1Agreement <= 1)) {
            throw new IllegalArgumentException("top1Agreement must be in [0, 1], got " + top1Agreement);
        }
        if (comparedPositions != null) {
            Map<String, List<Integer>> copy = new LinkedHashMap<>();
            comparedPositions.forEach((id, p) -> copy.put(id, List.copyOf(p)));
            comparedPositions = java.util.Collections.unmodifiableMap(copy);
        }
    }

    /** A report of every real token compared ({@code comparedPositions} null). */
    public FidelityReport(int positions, int hiddenSize, double cosineMean, double cosineMin, double cosinePooled,
                          double maxAbsError, double meanAbsError, double psnrDb, Double top1Agreement) {
        this(positions, hiddenSize, cosineMean, cosineMin, cosinePooled, maxAbsError, meanAbsError, psnrDb,
                top1Agreement, null);
    }

    /** This report, saying that it compared {@code positions} (per sample id) only. */
    public FidelityReport withComparedPositions(Map<String, List<Integer>> positions) {
        return new FidelityReport(this.positions, hiddenSize, cosineMean, cosineMin, cosinePooled, maxAbsError,
                meanAbsError, psnrDb, top1Agreement, positions);
    }

    private static void checkCosine(String field, double v) {
        if (!(v >= -1 && v <= 1)) {
            throw new IllegalArgumentException(field + " must be in [-1, 1], got " + v);
        }
    }

    private static void checkNonNegative(String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(field + " must be finite and >= 0, got " + v);
        }
    }

    /** True when both cosine gates hold: the mean and the worst position reach {@code minCosine}. */
    public boolean passes(double minCosine) {
        return cosineMean >= minCosine && cosineMin >= minCosine;
    }
}

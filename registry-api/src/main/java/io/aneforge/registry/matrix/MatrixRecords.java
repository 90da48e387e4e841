package io.aneforge.registry.matrix;

import io.aneforge.gate.Gates;
import io.aneforge.gate.RegressionThresholds;
import java.util.List;
import java.util.Map;

/** The JSON shape of a version's matrix. */
public final class MatrixRecords {

    private MatrixRecords() {}

    public static final String MEASURED = "measured";
    public static final String ESTIMATED = "estimated";
    public static final String PENDING = "pending";
    public static final String FAILED = "failed";
    /**
     * The job was cancelled (its variant or version was yanked, or the version was published without golden data; its
     * failure says which): no result is coming, nothing is pending.
     */
    public static final String CANCELLED = "cancelled";

    /**
     * @param computeUnits the columns, in Core ML's order (only settings some variant plans)
     * @param baseline     the version compared against ({@code ?baseline=}), or null
     * @param regressions  every regression reason against the baseline (empty without one)
     * @param yankReason   why the version was yanked, or null
     * @param regressionThresholds when a change against the baseline counts as a regression (null without a
     *                     baseline); the UI prints changes with the digits that keep them apart from these
     * @param notCompared  with a baseline, each cell (p50) and variant (cosine) measured in one version only, so
     *                     not compared: neither a regression nor "no regression" (empty without a baseline)
     * @param publishedWithoutGoldenData who published the version without golden data and why, else null: its jobs
     *                     were cancelled (accuracy not checked, nothing benchmarked) and the verdict is never PASS
     */
    public record Matrix(String model, int version, String versionStatus, Integer baseline, Gates gates, boolean gatesSet,
                         Verdict verdict, List<String> computeUnits, List<Row> rows, List<String> regressions,
                         String yankReason, RegressionThresholds regressionThresholds, List<String> notCompared,
                         io.aneforge.registry.model.Models.WithoutGoldenData publishedWithoutGoldenData) {}

    /**
     * The version's gate verdict: what promotion checks (PASS, FAIL, INCOMPLETE). NO_GATES for a model without
     * gates (nothing is checked; promotion lets it through; a reason names the PUT that sets gates). YANKED for a
     * yanked version, whose results will never complete and which promotion refuses anyway; its reason says why.
     */
    public record Verdict(String status, List<String> failingCells, List<String> pendingCells, List<String> reasons) {}

    /**
     * One variant.
     *
     * @param cell        the label gate reasons use ("A17_PRO int8-block32")
     * @param baselineRow true for the standard-layout fp16 comparison variant (shown, never blocks promotion)
     * @param cells       compute-units setting -> cell; a setting the variant does not plan is absent
     * @param gateStatus  PASS, FAIL, INCOMPLETE; NO_GATES when the model has no gates; YANKED when the variant or its version is yanked (then
     *                    {@code gateReasons} is empty and {@code yankReason} says why)
     * @param estimate    roofline estimate for the variant's chip; null when {@code estimateUnavailable} says why
     * @param yankReason  the variant's yank reason, else its version's when the version is yanked, else null
     * @param minCosine   the cosine limit this row is gated on: its precision's {@code minCosineByPrecision} entry, else
     *                    its family's, else the gates' {@code minCosine}; null when its cosine is not gated
     */
    public record Row(long variantId, String cell, String chip, String deploymentTarget, String layout, String precision,
                      Integer blockSize, String quantization, int seqLen, long sizeBytes, String digest, String downloadUrl, String status,
                      boolean baselineRow, Fidelity fidelity, Map<String, Cell> cells, String gateStatus,
                      List<String> gateReasons, Estimate estimate, String estimateUnavailable, RowDelta delta,
                      String yankReason, Double minCosine) {}

    /**
     * The variant's accuracy against the golden outputs (its newest finished reference-cpu accuracy run, see
     * {@code Matrices.accuracyJob}; {@code jobId} names it). {@code source}: measured,
     * pending, failed ({@code failure} is the agent's reason) or cancelled ({@code failure} is the yank).
     * {@code waitingFor}: for a pending job, why nobody runs it yet (the jobs list's text); null otherwise and
     * when an online agent could take it. {@code heldPositionsOnly}: for a measured cosine, true when an output was
     * compared at golden format 3's held positions only (a vocabulary-sized output: the cosine is the worst over those
     * tokens, not over every real token; the result's {@code comparedPositions} lists them), false when every output
     * was compared at every real token; null when not measured.
     */
    public record Fidelity(String source, Double cosine, Long jobId, String jobState, String failure, MeasuredOn measuredOn,
                           String waitingFor, Boolean heldPositionsOnly) {}

    /**
     * One variant on one compute-units setting.
     *
     * @param source    measured (numbers from {@code measuredOn}), estimated (the row's roofline range, no
     *                  measurement yet; only on settings that use the Neural Engine), pending (no measurement,
     *                  no estimate), failed ({@code failure}) or cancelled (the variant or version was yanked;
     *                  {@code failure} says so; never pending)
     * @param gate      PASS/FAIL against the chip's latency limit for a measured cell; FAIL for a failed run;
     *                  null when not gated or not measured
     * @param p50Change relative to the baseline version's same cell (0.12 = 12 % slower)
     * @param regression true/false when the cell was compared with the baseline; null when it was not (no
     *                   baseline, or no p50 on one side): "not compared" is not "no regression"
     * @param waitingFor for a pending job (a pending or estimated cell), why nobody runs it yet, the same text as the
     *                  jobs list's {@code waitingFor} ("no online agent offers runtime 'coreml' on chip A17_PRO");
     *                  null when an online agent could take it, and for every other state
     */
    public record Cell(String computeUnits, String source, Double p50Ms, Double p90Ms, Double loadMs, Double estimateLowMs,
                       Double estimateHighMs, Long jobId, String jobState, String failure, MeasuredOn measuredOn,
                       Protocol protocol, String gate, Double baselineP50Ms, Double p50Change, Boolean regression,
                       String waitingFor) {}

    /** Where a number came from. */
    public record MeasuredOn(String host, String osName, String osVersion, String osBuild, String chip, String runtime,
                             String runtimeVersion) {}

    public record Protocol(Integer warmupIterations, Integer timedIterations, Long maxDurationMs, Integer samples) {}

    /** @param appliesTo the compute-units settings whose cells show this estimate (those using the Neural Engine) */
    public record Estimate(String chip, double lowMs, double highMs, String boundBy, long flops, long bytes, String basis,
                           String source, List<String> appliesTo) {}

    /** @param regression null when the cosine was not compared (no accuracy result on one side) */
    public record RowDelta(Double baselineCosine, Double cosineChange, Boolean regression, List<String> reasons) {}
}

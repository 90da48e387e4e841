package io.aneforge.gate;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Evaluates {@link Gates} against {@link VariantFacts}.
 *
 * <p>Per variant: each gate that applies is PASS, FAIL or pending; the variant is FAIL if
 * any gate fails (or a run failed for good), else INCOMPLETE if any is pending, else PASS.
 * A gate that is not set is not checked, and its missing result is not waited for. The cosine
 * limit is the variant's precision's own ({@link Gates#cosineLimit}): its {@code minCosineByPrecision}
 * entry, else its family's, else {@code minCosine}.
 *
 * <p>Latency gates apply to the <b>best measured compute-units setting</b>: the variant
 * passes when at least one setting's p50 is within the chip's limit, because the app can
 * load the model with that setting (the resolve answer should name it). Consequently a
 * latency FAIL is final only once every planned setting is measured; while a slower
 * setting is measured and another is pending the gate is INCOMPLETE.
 *
 * <p>Version roll-up: FAIL if any gated (non-baseline) variant fails; INCOMPLETE if none
 * fails but one is pending, or if there is no gated variant yet; PASS otherwise.
 */
public final class GateEvaluator {
    private GateEvaluator() {
    }

    public static GateResult evaluate(Gates gates, VariantFacts f) {
        List<String> failures = new ArrayList<>();
        List<String> pending = new ArrayList<>();
        String p = f.cell() + ": ";
        for (String e : f.errors()) {
            failures.add(p + e);
        }
        if (gates.maxArtifactBytes() != null) {
            long max = gates.maxArtifactBytes();
            if (f.artifactBytes() == null) {
                pending.add(p + "not built yet (artifact size unknown)");
            } else if (f.artifactBytes() > max) {
                failures.add(p + "artifact " + Numbers.value(f.artifactBytes() / 1e6, max / 1e6, 1) + " MB > "
                        + Numbers.limit(max / 1e6) + " MB (" + f.artifactBytes() + " > " + max + " bytes)");
            }
        }
        Double minCosine = gates.cosineLimit(f.precision());
        if (minCosine != null) {
            double min = minCosine;
            if (f.cosine() == null) {
                pending.add(p + "no accuracy result yet");
            } else if (f.cosine().isNaN() || f.cosine() < min) {
                // a per-precision limit names its key: the reader sees why this row's limit is not minCosine
                String key = gates.cosineLimitKey(f.precision());
                failures.add(p + "cosine " + Numbers.value(f.cosine(), min, 4) + " < " + Numbers.limit(min)
                        + (key == null ? "" : " (minCosineByPrecision." + key + ")"));
            }
        }
        Double limit = gates.latencyLimitMs(f.chip());
        if (limit != null) {
            latency(p, limit, f.p50Ms(), failures, pending);
        }
        GateStatus status = !failures.isEmpty() ? GateStatus.FAIL : !pending.isEmpty() ? GateStatus.INCOMPLETE : GateStatus.PASS;
        List<String> reasons = new ArrayList<>(failures);
        reasons.addAll(pending);
        return new GateResult(f.variantId(), f.cell(), status, reasons);
    }

    private static void latency(String p, double limit, Map<String, Double> p50, List<String> failures, List<String> pending) {
        String best = null;
        List<String> waiting = new ArrayList<>();
        for (Map.Entry<String, Double> e : p50.entrySet()) {
            if (e.getValue() == null) {
                waiting.add(e.getKey());
            } else if (best == null || e.getValue() < p50.get(best)) {
                best = e.getKey();
            }
        }
        if (best == null) {
            pending.add(p + "no latency result yet" + (waiting.isEmpty() ? " (no benchmark planned)" : ""));
            return;
        }
        double ms = p50.get(best);
        if (ms <= limit) {
            return;
        }
        String msg = p + "p50 " + Numbers.value(ms, limit, 1) + " ms > " + Numbers.limit(limit) + " ms on " + best;
        if (waiting.isEmpty()) {
            failures.add(msg);
        } else {
            pending.add(msg + " (best so far; waiting for " + String.join(", ", waiting) + ")");
        }
    }

    public static VersionVerdict rollUp(Gates gates, List<VariantFacts> variants) {
        List<GateResult> results = new ArrayList<>();
        List<String> failing = new ArrayList<>();
        List<String> waiting = new ArrayList<>();
        List<String> failReasons = new ArrayList<>();
        List<String> pendingReasons = new ArrayList<>();
        for (VariantFacts f : variants) {
            GateResult r = evaluate(gates, f);
            results.add(r);
            if (f.baseline()) {
                continue;
            }
            if (r.status() == GateStatus.FAIL) {
                failing.add(r.cell());
                failReasons.addAll(r.reasons());
            } else if (r.status() == GateStatus.INCOMPLETE) {
                waiting.add(r.cell());
                pendingReasons.addAll(r.reasons());
            }
        }
        boolean anyGated = variants.stream().anyMatch(v -> !v.baseline());
        if (!anyGated) {
            pendingReasons.add("no variants to gate yet");
        }
        GateStatus status = !failing.isEmpty() ? GateStatus.FAIL
                : !pendingReasons.isEmpty() ? GateStatus.INCOMPLETE : GateStatus.PASS;
        List<String> reasons = new ArrayList<>(failReasons);
        reasons.addAll(pendingReasons);
        return new VersionVerdict(status, failing, waiting, reasons, results);
    }
}

package io.aneforge.gate;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compares a candidate version with a baseline version cell by cell (cells keyed by a
 * version-independent label such as the variant id or "A17_PRO int8-block32"). A cell in
 * only one version, or a number missing on either side, is reported without a delta and
 * never counts as a regression.
 *
 * @param cells     baseline cells first (in the baseline's order), then cells new in the candidate
 * @param regressed true when any cell regressed
 */
public record BaselineComparison(List<CellDelta> cells, boolean regressed) {

    /** Keeps a change exactly at a threshold (6.6 ms vs 6.0 ms, +10 %) from tripping on binary rounding. */
    private static final double EPSILON = 1e-9;

    public BaselineComparison {
        cells = List.copyOf(cells);
    }

    public static BaselineComparison compare(Map<String, CellValues> baseline, Map<String, CellValues> candidate,
                                             RegressionThresholds t) {
        Set<String> keys = new LinkedHashSet<>(baseline.keySet());
        keys.addAll(candidate.keySet());
        List<CellDelta> out = new ArrayList<>();
        boolean any = false;
        for (String cell : keys) {
            CellValues b = baseline.get(cell);
            CellValues c = candidate.get(cell);
            Double lat = null;
            Double cos = null;
            List<String> reasons = new ArrayList<>();
            if (b != null && c != null) {
                if (b.p50Ms() != null && c.p50Ms() != null && b.p50Ms() > 0) {
                    lat = c.p50Ms() / b.p50Ms() - 1;
                    if (lat > t.latencyIncrease() + EPSILON) {
                        // the change (and the p50 it came from) with the digits that keep it off the threshold:
                        // +10.04 % never reads "+10.0 % exceeds +10.0 %"
                        double limitPct = t.latencyIncrease() * 100;
                        reasons.add(cell + ": p50 " + Numbers.value(c.p50Ms(), b.p50Ms() * (1 + t.latencyIncrease()), 2)
                                + " ms vs " + Numbers.fixed(b.p50Ms(), 2) + " ms (+" + Numbers.value(lat * 100, limitPct, 1)
                                + " %) exceeds +" + Numbers.fixed(limitPct, 1) + " %");
                    }
                }
                if (b.cosine() != null && c.cosine() != null) {
                    cos = c.cosine() - b.cosine();
                    if (-cos > t.cosineDrop() + EPSILON || (c.cosine().isNaN() && !b.cosine().isNaN())) {
                        reasons.add(cell + ": cosine " + Numbers.fixed(c.cosine(), 5) + " vs " + Numbers.fixed(b.cosine(), 5)
                                + " (" + Numbers.value(cos, -t.cosineDrop(), 5) + ") drops more than " + Numbers.limit(t.cosineDrop()));
                    }
                }
            }
            any |= !reasons.isEmpty();
            out.add(new CellDelta(cell, b, c, lat, cos, !reasons.isEmpty(), reasons));
        }
        return new BaselineComparison(out, any);
    }

    public static BaselineComparison compare(Map<String, CellValues> baseline, Map<String, CellValues> candidate) {
        return compare(baseline, candidate, RegressionThresholds.DEFAULT);
    }
}

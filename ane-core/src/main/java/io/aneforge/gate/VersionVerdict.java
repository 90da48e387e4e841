package io.aneforge.gate;

import java.util.List;

/**
 * The gates' verdict on a model version (what promotion checks).
 *
 * @param status       FAIL if any gated variant fails; else INCOMPLETE if any is pending (or there are
 *                     no gated variants yet); else PASS
 * @param failingCells cells of gated variants with status FAIL
 * @param pendingCells cells of gated variants with status INCOMPLETE
 * @param reasons      the reasons of those variants, failing ones first
 * @param variants     every variant's result, baselines included
 */
public record VersionVerdict(GateStatus status, List<String> failingCells, List<String> pendingCells,
                             List<String> reasons, List<GateResult> variants) {
    public VersionVerdict {
        failingCells = List.copyOf(failingCells);
        pendingCells = List.copyOf(pendingCells);
        reasons = List.copyOf(reasons);
        variants = List.copyOf(variants);
    }
}

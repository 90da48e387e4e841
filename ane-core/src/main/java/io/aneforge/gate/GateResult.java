package io.aneforge.gate;

import java.util.List;

/**
 * The gates' verdict on one variant; {@code reasons} lists every violated or pending gate
 * (empty for PASS), each prefixed with the cell label.
 */
public record GateResult(String variantId, String cell, GateStatus status, List<String> reasons) {
    public GateResult {
        reasons = List.copyOf(reasons);
        if ((status == GateStatus.PASS) != reasons.isEmpty()) {
            throw new IllegalStateException("variant " + variantId + ": status " + status + " with reasons " + reasons);
        }
    }
}

package io.aneforge.gate;

import java.util.List;

/**
 * One cell compared across two versions.
 *
 * @param latencyChange relative p50 change (0.15 = 15 % slower); null unless both p50s exist
 * @param cosineChange  candidate cosine minus baseline cosine; null unless both exist
 * @param regression    true when a change is beyond the thresholds; {@code reasons} says which
 */
public record CellDelta(String cell, CellValues baseline, CellValues candidate, Double latencyChange, Double cosineChange,
                        boolean regression, List<String> reasons) {
    public CellDelta {
        reasons = List.copyOf(reasons);
    }
}

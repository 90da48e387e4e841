package io.aneforge.gate;

/** One matrix cell's numbers in one version; either may be null (not measured). */
public record CellValues(Double cosine, Double p50Ms) {
}

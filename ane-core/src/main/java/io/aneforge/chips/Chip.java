package io.aneforge.chips;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One chip of the catalog.
 *
 * @param generation ordinal within the line; higher is newer; equal generations share one ANE design
 * @param memoryBandwidthGBs null when unknown
 * @param bandwidthBasis apple, third-party or derived
 * @param source where the row's facts come from (never blank: a guard test checks every row)
 */
public record Chip(String id, ChipLine line, int generation, String name, double aneTops,
                   Double memoryBandwidthGBs, String bandwidthBasis, FastPath w8a8, String source) {

    private static final Pattern ID = Pattern.compile("[A-Z][A-Z0-9_]{1,15}");

    public Chip {
        Objects.requireNonNull(line, "line");
        Objects.requireNonNull(w8a8, "w8a8");
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("chip id '" + id + "' must match " + ID.pattern() + " (e.g. A17_PRO)");
        }
        if (generation <= 0) throw new IllegalArgumentException("chip " + id + ": generation must be positive");
        if (aneTops <= 0) throw new IllegalArgumentException("chip " + id + ": ane_tops must be positive");
        if (source == null || source.isBlank()) throw new IllegalArgumentException("chip " + id + ": source is required");
    }
}

package io.aneforge.variant;

import java.util.Locale;

/** Tensor layout of a converted graph (CONVERTER.md §1). */
public enum Layout {
    /** Apple's ANE layout: {@code (B, C, 1, S)}, 1×1 convs, per-head einsum attention (rules R1–R9). */
    ANE,
    /** The Hub layout kept as is: {@code (B, S, C)}, {@code linear}, {@code matmul}; the baseline. */
    STANDARD;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Layout parse(String text) {
        for (Layout l : values()) {
            if (l.id().equalsIgnoreCase(text)) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown layout '" + text + "': use ane or standard");
    }
}

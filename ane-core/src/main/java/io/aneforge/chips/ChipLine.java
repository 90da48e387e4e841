package io.aneforge.chips;

/** The two chip lines. Variants never cross lines (see {@link VariantPolicy}). */
public enum ChipLine { A, M }

package io.aneforge.chips;

import java.util.Locale;

/**
 * A CPU brand string as the OS reports it ({@code machdep.cpu.brand_string}, e.g. "Apple M2 Pro") and
 * the chip whose Neural Engine it has. How a device agent finds its chip when the device table does not
 * know its model identifier.
 */
public record CpuBrand(String brand, String chipId, String source) {
    public CpuBrand {
        if (brand == null || brand.isBlank()) throw new IllegalArgumentException("cpu brand is required");
        if (source == null || source.isBlank()) throw new IllegalArgumentException("cpu brand " + brand + ": source is required");
    }

    /** The lookup key: case-insensitive, surrounding and repeated whitespace ignored. */
    static String key(String brand) {
        return brand.trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    }
}

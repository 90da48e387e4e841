package io.aneforge.agent.host;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps a CPU brand string ({@code machdep.cpu.brand_string} on macOS) to a chip id.
 *
 * <p>Pro/Max/Ultra variants of an M chip share the Neural Engine generation of their family,
 * so they map to the family ("Apple M2 Pro" → {@code M2}). For A chips the Pro variant is a
 * distinct chip ({@code A17_PRO}, {@code A18_PRO}); "Bionic" is marketing and ignored. A brand
 * that is not an Apple chip (Intel Macs, Linux hosts) or a chip newer than this table maps to
 * empty: such a host offers only the reference runtime until the catalog knows the chip.
 *
 * <p>The ids are plain strings matching the chip catalog in {@code io.aneforge.chips}.
 */
public final class AppleChipParser {

    public static final List<String> KNOWN_CHIPS =
            List.of("A14", "A15", "A16", "A17_PRO", "A18", "A18_PRO", "M1", "M2", "M3", "M4");

    // "Apple M2 Pro", "Apple M1", "Apple A17 Pro", "Apple A14 Bionic"; case-insensitive.
    private static final Pattern BRAND =
            Pattern.compile("^\\s*Apple\\s+([AM])(\\d+)(?:\\s+(Pro|Max|Ultra|Bionic))?\\s*$",
                    Pattern.CASE_INSENSITIVE);

    private AppleChipParser() {}

    public static Optional<String> chipFromBrand(String brand) {
        if (brand == null) {
            return Optional.empty();
        }
        Matcher m = BRAND.matcher(brand);
        if (!m.matches()) {
            return Optional.empty();
        }
        String series = m.group(1).toUpperCase(Locale.ROOT);
        String number = m.group(2);
        String variant = m.group(3) == null ? "" : m.group(3).toLowerCase(Locale.ROOT);
        String id;
        if (series.equals("M")) {
            // Pro/Max/Ultra share the family's Neural Engine; "Bionic" is not an M variant.
            if (variant.equals("bionic")) {
                return Optional.empty();
            }
            id = "M" + number;
        } else {
            if (variant.equals("max") || variant.equals("ultra")) {
                return Optional.empty();
            }
            id = "A" + number + (variant.equals("pro") ? "_PRO" : "");
        }
        return KNOWN_CHIPS.contains(id) ? Optional.of(id) : Optional.empty();
    }
}

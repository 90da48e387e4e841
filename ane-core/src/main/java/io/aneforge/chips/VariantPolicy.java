package io.aneforge.chips;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which chips' variants a device may run, best first.
 *
 * <p>The rule: the device's own chip first; then the other chips of the same generation of the same
 * line (A18 and A18 Pro share one 16-core Neural Engine); then older generations of the same line,
 * newest first. Never a newer generation (it may use ops or a W8A8 path the older ANE lacks, and
 * falls back to GPU/CPU silently), and never across the A and M lines: although an M1 shares its
 * ANE with the A14, variants are measured and gated per chip on different host pools, so serving an
 * A-line variant to an M device would ship a pairing nobody measured.
 */
public final class VariantPolicy {

    private final ChipCatalog catalog;

    public VariantPolicy(ChipCatalog catalog) {
        this.catalog = catalog;
    }

    /** The chips whose variants {@code device} may use, in order of preference; the first is the chip itself. */
    public List<Chip> compatibleChips(Chip device) {
        List<Chip> out = new ArrayList<>();
        out.add(device);
        List<Chip> others = new ArrayList<>();
        for (Chip c : catalog.chips()) {
            if (!c.id().equals(device.id()) && c.line() == device.line() && c.generation() <= device.generation()) {
                others.add(c);
            }
        }
        others.sort(Comparator.comparingInt(Chip::generation).reversed().thenComparing(Chip::id));
        out.addAll(others);
        return List.copyOf(out);
    }
}

package io.aneforge.agent.host;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import java.util.Optional;

/**
 * Finds the chip id of the host from ane-core's {@link ChipCatalog}, the one list of chips: the CPU
 * brand string ({@code machdep.cpu.brand_string}, "Apple M2 Pro" → {@code M2}) through
 * {@code cpu-brands.psv}, or the model identifier ({@code hw.model}, "Mac14,2" → {@code M2}) through
 * {@code devices.psv}. A host the catalog does not list (Intel Macs, Linux hosts, chips newer than the
 * catalog) has no chip and offers only the reference runtime until a row is added there.
 */
public final class AppleChipParser {

    private AppleChipParser() {}

    /** The chip of a CPU brand string; empty when the catalog does not list the brand. */
    public static Optional<String> chipFromBrand(String brand) {
        return ChipCatalog.builtIn().chipOfCpuBrand(brand).map(Chip::id);
    }

    /** The chip of a model identifier such as {@code Mac14,2}; empty when the device table does not list it. */
    public static Optional<String> chipFromModel(String model) {
        if (model == null) {
            return Optional.empty();
        }
        return ChipCatalog.builtIn().chipOfDevice(model.trim()).map(Chip::id);
    }

    /** Whether {@code chipId} is a chip of the catalog. */
    public static boolean isKnownChip(String chipId) {
        return ChipCatalog.builtIn().chip(chipId).isPresent();
    }
}

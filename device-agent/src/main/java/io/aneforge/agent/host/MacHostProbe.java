package io.aneforge.agent.host;

import java.util.List;

/**
 * Host facts on macOS from sysctl: {@code kern.hostname}, {@code kern.osproductversion}
 * (14.5), {@code kern.osversion} (the build, 23F79: Core ML compiles differently per build,
 * so results and compiled-model caches are keyed by it), {@code hw.machine} (arm64),
 * {@code machdep.cpu.brand_string} (Apple M2 Pro), {@code hw.memsize} (bytes) and
 * {@code hw.model} (Mac14,2; kept in the brand when the brand string is missing). The chip comes from
 * the brand, else from the model identifier, both through the chip catalog ({@link AppleChipParser}).
 */
public final class MacHostProbe implements HostProbe {

    private final Sysctl sysctl;

    public MacHostProbe(Sysctl sysctl) {
        this.sysctl = sysctl;
    }

    @Override
    public HostFacts read(List<String> runtimes) {
        String brand = sysctl.string("machdep.cpu.brand_string").trim();
        String model = sysctl.string("hw.model").trim();
        if (brand.isEmpty()) {
            brand = model;
        }
        String chip = AppleChipParser.chipFromBrand(brand).or(() -> AppleChipParser.chipFromModel(model)).orElse(null);
        return new HostFacts(
                sysctl.string("kern.hostname").trim(),
                "macOS",
                sysctl.string("kern.osproductversion").trim(),
                sysctl.string("kern.osversion").trim(),
                sysctl.string("hw.machine").trim(),
                brand,
                sysctl.int64("hw.memsize"),
                chip,
                runtimes);
    }
}

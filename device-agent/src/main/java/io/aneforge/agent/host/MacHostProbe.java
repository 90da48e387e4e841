package io.aneforge.agent.host;

import java.util.List;
import java.util.Locale;

/**
 * Host facts on macOS from sysctl: {@code kern.hostname}, {@code kern.osproductversion}
 * (14.5), {@code kern.osversion} (the build, 23F79: Core ML compiles differently per build,
 * so results and compiled-model caches are keyed by it), {@code hw.machine} (arm64),
 * {@code machdep.cpu.brand_string} (Apple M2 Pro), {@code hw.memsize} (bytes) and
 * {@code hw.model} (Mac14,2; kept in the brand when the brand string is missing). The chip comes from
 * the brand, else from the model identifier, both through the chip catalog ({@link AppleChipParser}).
 *
 * <p>The machine identity is the hardware UUID ({@link HostUuid}, {@code gethostuuid(2)}) with
 * {@code kern.bootsessionuuid}, the UUID of this boot, and no pid namespace (macOS has none). Written against Apple's
 * documentation and tested with recorded values; not run on a Mac.
 */
public final class MacHostProbe implements HostProbe {

    private final Sysctl sysctl;
    private final HostUuid hostUuid;

    public MacHostProbe(Sysctl sysctl, HostUuid hostUuid) {
        this.sysctl = sysctl;
        this.hostUuid = hostUuid;
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

    @Override
    public MachineIdentity.Reading machineIdentity() {
        String hardware;
        String boot;
        try {
            hardware = hostUuid.read().trim();
            boot = sysctl.string("kern.bootsessionuuid").trim();
        } catch (HostProbeException e) {
            return MachineIdentity.Reading.unavailable(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            // Never thrown on: without an identity the compiled-model cache claims by name, as before identities. JNA
            // resolves a symbol only when it is first called, so a missing one surfaces here as an UnsatisfiedLinkError.
            return MachineIdentity.Reading.unavailable("cannot read this Mac's identity (gethostuuid(2),"
                    + " kern.bootsessionuuid): " + e);
        }
        if (!MachineIdentity.isUuid(hardware)) {
            return MachineIdentity.Reading.unavailable("gethostuuid(2) gave '" + hardware + "', not a hardware UUID");
        }
        if (!MachineIdentity.isUuid(boot)) {
            return MachineIdentity.Reading.unavailable("kern.bootsessionuuid is '" + boot + "', not a boot session UUID");
        }
        return MachineIdentity.Reading.of(new MachineIdentity(hardware.toUpperCase(Locale.ROOT),
                boot.toUpperCase(Locale.ROOT), ""));
    }
}

package io.aneforge.agent.host;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import java.util.List;

/**
 * What an agent tells the registry about the machine it runs on; recorded with every result.
 *
 * @param hostName the host's node name
 * @param osName {@code macOS} or {@code Linux} (others as the JVM reports them)
 * @param osVersion product version on macOS ({@code 14.5}), kernel release on Linux
 * @param osBuild build on macOS ({@code 23F79}, which changes the Core ML compiler), kernel
 *     build string on Linux
 * @param arch machine architecture as the kernel reports it ({@code arm64}, {@code x86_64})
 * @param cpuBrand the CPU's marketing name ({@code Apple M2 Pro}); never used for decisions
 *     except through {@link AppleChipParser}
 * @param memoryBytes physical memory in bytes
 * @param chip chip id ({@code M2}, {@code A17_PRO}, ...) or {@code null} when the host is not
 *     an Apple chip (such hosts offer only the reference runtime)
 * @param runtimes ids of the runtimes this agent offers, e.g. {@code [coreml, reference-cpu]}
 */
public record HostFacts(
        String hostName,
        String osName,
        String osVersion,
        String osBuild,
        String arch,
        String cpuBrand,
        long memoryBytes,
        String chip,
        List<String> runtimes) {

    public HostFacts {
        requireText(hostName, "hostName");
        requireText(osName, "osName");
        requireText(osVersion, "osVersion");
        requireText(osBuild, "osBuild");
        requireText(arch, "arch");
        requireText(cpuBrand, "cpuBrand");
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("memoryBytes must be > 0, got " + memoryBytes);
        }
        if (chip != null && !AppleChipParser.isKnownChip(chip)) {
            throw new IllegalArgumentException("unknown chip id '" + chip + "': use one of "
                    + ChipCatalog.builtIn().chips().stream().map(Chip::id).toList() + " or null for a non-Apple host");
        }
        runtimes = List.copyOf(runtimes);
    }

    /**
     * These facts under {@code name} instead of the probed host name, when it is not blank: the name the agent
     * registers with, for hosts whose own names clash (pods of the same name in two namespaces or clusters).
     */
    public HostFacts named(String name) {
        return name == null || name.isBlank() ? this
                : new HostFacts(name, osName, osVersion, osBuild, arch, cpuBrand, memoryBytes, chip, runtimes);
    }

    private static void requireText(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " must not be blank");
        }
    }
}

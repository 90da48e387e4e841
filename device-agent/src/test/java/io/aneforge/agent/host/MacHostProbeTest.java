package io.aneforge.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** macOS parsing from sysctl values recorded on real Macs (strings as sysctl -n prints them). */
class MacHostProbeTest {

    /** A Sysctl answering from recorded values; a missing name fails like sysctlbyname's ENOENT. */
    record RecordedSysctl(Map<String, String> values) implements Sysctl {
        @Override
        public String string(String name) {
            String v = values.get(name);
            if (v == null) {
                throw new HostProbeException("sysctlbyname(\"" + name + "\") failed with errno 2");
            }
            return v;
        }

        @Override
        public long int64(String name) {
            return Long.parseLong(string(name));
        }
    }

    /** The hardware UUID of the recorded Mac (System Information, "Hardware UUID"). */
    static final HostUuid HARDWARE = () -> "564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F";

    private static Map<String, String> macBookProM2Pro() {
        Map<String, String> v = new HashMap<>();
        v.put("kern.hostname", "qa-mbp-07.local");
        v.put("kern.osproductversion", "14.5");
        v.put("kern.osversion", "23F79");
        v.put("hw.machine", "arm64");
        v.put("hw.model", "Mac14,9");
        v.put("machdep.cpu.brand_string", "Apple M2 Pro");
        v.put("hw.memsize", "34359738368");
        v.put("kern.bootsessionuuid", "0D6E2F6B-1C4A-4E8B-9F3D-2A1B0C9D8E7F");
        // the kernel binary's UUID, the same on every Mac on this build: never an identity
        v.put("kern.uuid", "5E7B3F7C-2E54-3D9A-8B51-0C2D4A6E8F10");
        return v;
    }

    @Test
    void readsAppleSiliconMac() {
        HostFacts facts = new MacHostProbe(new RecordedSysctl(macBookProM2Pro()), HARDWARE).read(List.of("coreml", "reference-cpu"));

        assertThat(facts.hostName()).isEqualTo("qa-mbp-07.local");
        assertThat(facts.osName()).isEqualTo("macOS");
        assertThat(facts.osVersion()).isEqualTo("14.5");
        assertThat(facts.osBuild()).isEqualTo("23F79");
        assertThat(facts.arch()).isEqualTo("arm64");
        assertThat(facts.cpuBrand()).isEqualTo("Apple M2 Pro");
        assertThat(facts.memoryBytes()).isEqualTo(32L * 1024 * 1024 * 1024);
        assertThat(facts.chip()).isEqualTo("M2");
        assertThat(facts.runtimes()).containsExactly("coreml", "reference-cpu");
    }

    @Test
    void intelMacHasNoChip() {
        Map<String, String> v = macBookProM2Pro();
        v.put("hw.machine", "x86_64");
        v.put("hw.model", "MacBookPro16,1");
        v.put("machdep.cpu.brand_string", "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz");
        v.put("kern.osproductversion", "13.6.7");
        v.put("kern.osversion", "22G720");

        HostFacts facts = new MacHostProbe(new RecordedSysctl(v), HARDWARE).read(List.of("reference-cpu"));

        assertThat(facts.chip()).isNull();
        assertThat(facts.osBuild()).isEqualTo("22G720");
    }

    @Test
    void withoutABrandStringTheModelIdentifierFindsTheChipInTheDeviceTable() {
        Map<String, String> v = macBookProM2Pro();
        v.put("machdep.cpu.brand_string", "");
        v.put("hw.model", "Mac14,2");

        HostFacts facts = new MacHostProbe(new RecordedSysctl(v), HARDWARE).read(List.of("coreml"));

        assertThat(facts.cpuBrand()).isEqualTo("Mac14,2");
        assertThat(facts.chip()).isEqualTo("M2");
    }

    @Test
    void missingSysctlNamesTheKey() {
        Map<String, String> v = macBookProM2Pro();
        v.remove("kern.osversion");

        assertThatThrownBy(() -> new MacHostProbe(new RecordedSysctl(v), HARDWARE).read(List.of()))
                .isInstanceOf(HostProbeException.class)
                .hasMessageContaining("kern.osversion");
    }

    @Test
    void theMachineIdentityIsTheHardwareUuidAndTheBootSessionNeverTheKernelUuid() {
        MachineIdentity.Reading reading = new MacHostProbe(new RecordedSysctl(macBookProM2Pro()), HARDWARE)
                .machineIdentity();

        assertThat(reading.unavailable()).isNull();
        assertThat(reading.identity()).isEqualTo(new MachineIdentity("564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F",
                "0D6E2F6B-1C4A-4E8B-9F3D-2A1B0C9D8E7F", ""));

        Map<String, String> lower = macBookProM2Pro();
        lower.put("kern.bootsessionuuid", " 0d6e2f6b-1c4a-4e8b-9f3d-2a1b0c9d8e7f\n");
        assertThat(new MacHostProbe(new RecordedSysctl(lower), () -> "564d7e2a-31b3-4c6e-9e0f-6a2b1c3d4e5f")
                .machineIdentity().identity()).as("one spelling").isEqualTo(reading.identity());
    }

    /** Without an identity the compiled-model cache claims by name, as before: the probe says why and never throws. */
    @Test
    void aMachineIdentityThatCannotBeReadSaysWhy() {
        HostUuid failing = () -> {
            throw new HostProbeException("gethostuuid(2) failed with errno 35");
        };
        assertThat(new MacHostProbe(new RecordedSysctl(macBookProM2Pro()), failing).machineIdentity())
                .isEqualTo(MachineIdentity.Reading.unavailable("gethostuuid(2) failed with errno 35"));
        assertThat(new MacHostProbe(new RecordedSysctl(macBookProM2Pro()), () -> "00000000-0000-0000-0000-000000000000")
                .machineIdentity().unavailable())
                .isEqualTo("gethostuuid(2) gave '00000000-0000-0000-0000-000000000000', not a hardware UUID");

        // JNA resolves gethostuuid only when it is first called: a libc without it is an Error, not an exception
        HostUuid unlinked = () -> {
            throw new UnsatisfiedLinkError("Error looking up function 'gethostuuid'");
        };
        assertThat(new MacHostProbe(new RecordedSysctl(macBookProM2Pro()), unlinked).machineIdentity().unavailable())
                .isEqualTo("cannot read this Mac's identity (gethostuuid(2), kern.bootsessionuuid):"
                        + " java.lang.UnsatisfiedLinkError: Error looking up function 'gethostuuid'");
        Sysctl broken = new Sysctl() {
            @Override
            public String string(String name) {
                throw new IllegalStateException("Invalid memory access");
            }

            @Override
            public long int64(String name) {
                throw new IllegalStateException("Invalid memory access");
            }
        };
        assertThat(new MacHostProbe(broken, HARDWARE).machineIdentity().unavailable())
                .endsWith("java.lang.IllegalStateException: Invalid memory access");

        Map<String, String> v = macBookProM2Pro();
        v.remove("kern.bootsessionuuid");
        assertThat(new MacHostProbe(new RecordedSysctl(v), HARDWARE).machineIdentity().unavailable())
                .isEqualTo("sysctlbyname(\"kern.bootsessionuuid\") failed with errno 2");
        v.put("kern.bootsessionuuid", "");
        assertThat(new MacHostProbe(new RecordedSysctl(v), HARDWARE).machineIdentity().unavailable())
                .isEqualTo("kern.bootsessionuuid is '', not a boot session UUID");
    }
}

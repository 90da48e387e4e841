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

    private static Map<String, String> macBookProM2Pro() {
        Map<String, String> v = new HashMap<>();
        v.put("kern.hostname", "qa-mbp-07.local");
        v.put("kern.osproductversion", "14.5");
        v.put("kern.osversion", "23F79");
        v.put("hw.machine", "arm64");
        v.put("hw.model", "Mac14,9");
        v.put("machdep.cpu.brand_string", "Apple M2 Pro");
        v.put("hw.memsize", "34359738368");
        return v;
    }

    @Test
    void readsAppleSiliconMac() {
        HostFacts facts = new MacHostProbe(new RecordedSysctl(macBookProM2Pro())).read(List.of("coreml", "reference-cpu"));

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

        HostFacts facts = new MacHostProbe(new RecordedSysctl(v)).read(List.of("reference-cpu"));

        assertThat(facts.chip()).isNull();
        assertThat(facts.osBuild()).isEqualTo("22G720");
    }

    @Test
    void withoutABrandStringTheModelIdentifierFindsTheChipInTheDeviceTable() {
        Map<String, String> v = macBookProM2Pro();
        v.put("machdep.cpu.brand_string", "");
        v.put("hw.model", "Mac14,2");

        HostFacts facts = new MacHostProbe(new RecordedSysctl(v)).read(List.of("coreml"));

        assertThat(facts.cpuBrand()).isEqualTo("Mac14,2");
        assertThat(facts.chip()).isEqualTo("M2");
    }

    @Test
    void missingSysctlNamesTheKey() {
        Map<String, String> v = macBookProM2Pro();
        v.remove("kern.osversion");

        assertThatThrownBy(() -> new MacHostProbe(new RecordedSysctl(v)).read(List.of()))
                .isInstanceOf(HostProbeException.class)
                .hasMessageContaining("kern.osversion");
    }
}

package io.aneforge.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MachineIdentityTest {

    @Test
    void eachPartIsOneTokenOfPrintableAscii() {
        assertThatThrownBy(() -> new MachineIdentity("a b", "boot", ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("machine must be 1 to 128 printable ASCII characters without spaces, got 'a b'");
        assertThatThrownBy(() -> new MachineIdentity("m", "", "")).hasMessageStartingWith("boot must be");
        assertThatThrownBy(() -> new MachineIdentity("m", "b", "pid:[1]\n")).hasMessageStartingWith("pidNamespace must be");
        assertThat(new MachineIdentity("m", "b", "").describe()).isEqualTo("machine m, boot b");
        assertThat(new MachineIdentity("m", "b", "pid:[1]").describe()).isEqualTo("machine m, boot b, pid namespace pid:[1]");
    }

    @Test
    void pidsAreTheSameOnlyOnTheSameMachineInTheSameBootAndNamespace() {
        MachineIdentity host = new MachineIdentity("m", "b", "pid:[1]");
        assertThat(host.samePids(new MachineIdentity("m", "b", "pid:[1]"))).isTrue();
        assertThat(host.samePids(new MachineIdentity("m", "b2", "pid:[1]"))).isFalse();
        assertThat(host.samePids(new MachineIdentity("m", "b", "pid:[2]"))).isFalse();
        assertThat(host.samePids(new MachineIdentity("m2", "b", "pid:[1]"))).isFalse();
    }

    @Test
    void aReadingHoldsAnIdentityOrWhyThereIsNone() {
        MachineIdentity id = new MachineIdentity("m", "b", "");
        assertThat(MachineIdentity.Reading.of(id).found()).contains(id);
        assertThat(MachineIdentity.Reading.unavailable("why").found()).isEmpty();
        assertThatThrownBy(() -> new MachineIdentity.Reading(id, "why")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MachineIdentity.Reading.unavailable(" ")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aUuidIsOneAsUuidUnparseWritesItAndNotTheNilUuid() {
        assertThat(MachineIdentity.isUuid("564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F")).isTrue();
        assertThat(MachineIdentity.isUuid("3906ab3c-0dff-48d6-ac04-3a62aa7ece64")).isTrue();
        assertThat(MachineIdentity.isUuid("00000000-0000-0000-0000-000000000000")).isFalse();
        assertThat(MachineIdentity.isUuid("3906ab3c0dff48d6ac043a62aa7ece64")).isFalse();
        assertThat(MachineIdentity.isUuid("")).isFalse();
    }
}

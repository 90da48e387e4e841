package io.aneforge.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostFactsTest {

    @Test
    void rejectsUnknownChipsAndBlankFields() {
        assertThatThrownBy(() -> new HostFacts("h", "macOS", "15.0", "24A335", "arm64", "Apple M5", 1, "M5", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown chip id 'M5'");
        assertThatThrownBy(() -> new HostFacts("h", "macOS", "15.0", " ", "arm64", "Apple M4", 1, "M4", List.of()))
                .hasMessage("osBuild must not be blank");
        assertThatThrownBy(() -> new HostFacts("h", "Linux", "6.1", "#1", "x86_64", "cpu", 0, null, List.of()))
                .hasMessageContaining("memoryBytes must be > 0");
    }

    @Test
    void runtimesAreCopied() {
        List<String> runtimes = new ArrayList<>(List.of("coreml"));
        HostFacts facts = new HostFacts("h", "macOS", "15.0", "24A335", "arm64", "Apple M4", 1, "M4", runtimes);
        runtimes.add("reference-cpu");
        assertThat(facts.runtimes()).containsExactly("coreml");
    }
}

package io.aneforge.registry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.job.Jobs;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What a pending job says it waits for when the only agents that could run it cannot read its golden data. */
class GoldenFormatWaitingTest {

    private static Agent agent(String host, String chip, int goldenFormat) {
        Instant now = Instant.parse("2026-11-28T00:00:00Z");
        Agent a = new Agent(UUID.randomUUID(), host, now);
        a.describe(new Agents.NewAgent(host, "macOS", "15.1", "24B83", "arm64", "Apple " + chip, 1L << 34, chip,
                List.of("coreml"), goldenFormat), null, "test", now);
        return a;
    }

    @Test
    void aJobWaitsForAnAgentThatReadsItsGoldenDataFormat() {
        Agent old = agent("old", "A15", 1);
        Agent upgraded = agent("upgraded", "A15", 2);
        assertThat(Jobs.waitingFor(true, "coreml", "A15", 2, List.of(old), 3))
                .isEqualTo("the version's golden data is format 2, and the online agents offering runtime 'coreml' on chip"
                        + " A15 read format 1 at most: upgrade those device agents (jobs go to agents that read their golden"
                        + " data), or write golden data they read (ANEFORGE_GOLDEN_FORMAT=1 for convert and the"
                        + " converter workers) in a new version");
        // a format 3 version (vocabulary-sized logits at held positions) and agents of the previous release
        assertThat(Jobs.waitingFor(true, "coreml", "A15", 3, List.of(old, upgraded), 3))
                .contains("golden data is format 3").contains("read format 2 at most")
                .contains("ANEFORGE_GOLDEN_FORMAT=2 for convert");
        assertThat(Jobs.waitingFor(true, "coreml", "A15", 3, List.of(old, agent("newest", "A15", 3)), 3)).isNull();
        assertThat(Jobs.waitingFor(true, "coreml", "A15", 2, List.of(old, upgraded), 3)).isNull();
        assertThat(Jobs.waitingFor(true, "coreml", "A15", 1, List.of(old), 3)).isNull();
        assertThat(Jobs.waitingFor(true, "coreml", "M4", 2, List.of(upgraded), 3))
                .isEqualTo("no online agent offers runtime 'coreml' on chip M4");
    }
}

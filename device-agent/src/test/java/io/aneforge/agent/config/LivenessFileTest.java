package io.aneforge.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.registry.AgentRegistration;
import io.aneforge.agent.registry.HandBack;
import io.aneforge.agent.registry.HeartbeatAck;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.registry.RegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.aneforge.testsupport.time.MutableClock;

/**
 * The liveness file's modification time follows every registry call that returns, answered or failed (a refused
 * token or an unreachable registry must not get the agent restarted), and a file that cannot be written never
 * breaks a call.
 */
class LivenessFileTest {

    @TempDir
    Path dir;

    @Test
    void everyReturningCallSetsTheFilesTimeFailedOnesToo() throws Exception {
        Path file = dir.resolve("run/alive");
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        LivenessFile liveness = new LivenessFile(file, clock);
        RegistryClient alive = liveness.around(new Unreachable());

        liveness.touch();
        assertThat(Files.getLastModifiedTime(file).toInstant()).isEqualTo(clock.instant());

        clock.advance(Duration.ofMinutes(3));
        assertThatThrownBy(() -> alive.heartbeat("a1", List.of())).hasMessageContaining("unreachable");
        assertThat(Files.getLastModifiedTime(file).toInstant()).isEqualTo(clock.instant());

        clock.advance(Duration.ofMinutes(3));
        assertThat(alive.lease("a1", Duration.ofSeconds(30))).isEmpty();
        assertThat(Files.getLastModifiedTime(file).toInstant()).isEqualTo(clock.instant());
    }

    @Test
    void aFileThatCannotBeWrittenDoesNotBreakTheCall() throws Exception {
        Path blocker = Files.writeString(dir.resolve("not-a-directory"), "x");
        RegistryClient alive = new LivenessFile(blocker.resolve("alive"), Clock.systemUTC()).around(new Unreachable());
        assertThat(alive.lease("a1", Duration.ofSeconds(1))).isEmpty();
    }

    /** Heartbeats fail as with the registry down; lease calls answer "no job". */
    private static final class Unreachable implements RegistryClient {
        @Override
        public AgentRegistration register(HostFacts host) {
            throw new IllegalStateException("unreachable");
        }

        @Override
        public HeartbeatAck heartbeat(String agentId, List<String> heldLeaseIds) {
            throw new IllegalStateException("unreachable");
        }

        @Override
        public Optional<JobLease> lease(String agentId, Duration wait) {
            return Optional.empty();
        }

        @Override
        public void report(String agentId, JobReport report) {
        }

        @Override
        public HandBack release(String agentId, String jobId, String leaseId, String reason, boolean trouble) {
            return null;
        }

        @Override
        public HandBack releaseLeaseRequest(String agentId, String request, String reason) {
            return null;
        }

        @Override
        public void drain(String agentId, boolean draining) {
        }
    }
}

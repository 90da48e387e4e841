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
import io.aneforge.agent.watchdog.RuntimeCallWatch;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

    /**
     * A job stuck in a runtime call keeps the heartbeat thread's calls returning: the file must go stale all the
     * same once the call ran past its bound (the real {@link RuntimeCallWatch}, 1 s here), so the probe restarts
     * the agent; it is set again should the call return.
     */
    @Test
    void aRuntimeCallPastItsBoundStopsTheFileUntilItReturns() throws Exception {
        Path file = dir.resolve("alive");
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        RuntimeCallWatch watch = new RuntimeCallWatch(Duration.ofSeconds(1));
        LivenessFile liveness = new LivenessFile(file, clock, watch::overrun);
        RegistryClient alive = liveness.around(new Unreachable());
        liveness.touch();
        Instant lastSet = clock.instant();

        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ModelRuntime stuck = new ModelRuntime() {
            @Override public String id() { return "coreml"; }
            @Override public String version() { return "stuck-1"; }
            @Override public boolean isAvailable() { return true; }
            @Override public LoadedModel load(Path mlpackage, RuntimeOptions options) {
                loading.countDown();
                try {
                    release.await(); // a wedged compile
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new RuntimeLoadException("released");
            }
        };
        Thread job = new Thread(() -> {
            try {
                watch.around(stuck, "benchmark job 7").load(dir, RuntimeOptions.defaults());
            } catch (RuntimeLoadException expected) {
                // the test's release
            }
        });
        job.start();
        try {
            assertThat(loading.await(5, TimeUnit.SECONDS)).isTrue();
            clock.advance(Duration.ofMinutes(1));
            alive.lease("a1", Duration.ofSeconds(30)); // within the bound: still alive
            assertThat(Files.getLastModifiedTime(file).toInstant()).isEqualTo(clock.instant());
            lastSet = clock.instant();

            Thread.sleep(1_300); // past the bound
            assertThat(watch.overrun()).hasValueSatisfying(o -> assertThat(o).contains(
                    "runtime coreml's load call for benchmark job 7 has not returned after",
                    "longer than aneforge.agent.max-runtime-call (1 s, env ANEFORGE_AGENT_MAX_RUNTIME_CALL)"));
            clock.advance(Duration.ofMinutes(1));
            assertThatThrownBy(() -> alive.heartbeat("a1", List.of())).hasMessageContaining("unreachable");
            alive.lease("a1", Duration.ofSeconds(30));
            assertThat(Files.getLastModifiedTime(file).toInstant()).as("not refreshed while stuck").isEqualTo(lastSet);
        } finally {
            release.countDown();
            job.join(5_000);
        }
        assertThat(watch.overrun()).isEmpty();
        clock.advance(Duration.ofMinutes(1));
        alive.lease("a1", Duration.ofSeconds(30));
        assertThat(Files.getLastModifiedTime(file).toInstant()).as("set again once the call returned").isEqualTo(clock.instant());
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
        public HandBack releaseLeaseRequest(String agentId, String request, String reason, boolean trouble) {
            return null;
        }

        @Override
        public void drain(String agentId, boolean draining) {
        }
    }
}

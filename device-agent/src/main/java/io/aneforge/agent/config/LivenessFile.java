package io.aneforge.agent.config;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.registry.AgentRegistration;
import io.aneforge.agent.registry.HandBack;
import io.aneforge.agent.registry.HeartbeatAck;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.registry.RegistryClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's liveness signal, for a container orchestrator (the agent has no web server to probe): a file whose
 * modification time is set whenever a registry call returns, answered or failed ({@code aneforge.agent.liveness-file},
 * env {@code ANEFORGE_AGENT_LIVENESS_FILE}; the images set {@code /tmp/aneforge-agent-alive}). A working agent calls
 * the registry at least every lease wait (30 s by default) while idle, every heartbeat interval while a job runs,
 * and at least once a minute while its registration is refused or the registry is down, so a file older than a few
 * minutes means the agent's threads are stuck (a deadlock, a JVM wedged in GC, a heartbeat that never returns) and a
 * restart is the fix. A refused token or an unreachable registry keep the file fresh: a restart would not fix them.
 * Without a token (or without a runtime) the agent makes no call: the file is written once at start and goes stale,
 * so the orchestrator restarts the misconfigured agent (visible as restarts) rather than showing it healthy.
 *
 * <p>A job stuck inside a runtime call keeps the agent's other threads going (heartbeats return), so the file is also
 * left alone while {@code stuck} names a runtime call that ran past {@code aneforge.agent.max-runtime-call}
 * ({@link io.aneforge.agent.loop.JobExecutor#overrunningCall()}): the probe then restarts the agent. Should the call
 * return after all, the file is set again by the next registry call.
 *
 * <p>{@link #around} decorates the {@link RegistryClient}, so the agent loop itself is unchanged.
 */
final class LivenessFile {

    private static final Logger log = LoggerFactory.getLogger(LivenessFile.class);

    private final Path file;
    private final Clock clock;
    private final Supplier<Optional<String>> stuck;
    private volatile boolean warned;
    private volatile boolean stuckLogged;

    LivenessFile(Path file, Clock clock) {
        this(file, clock, Optional::empty);
    }

    /** @param stuck the runtime call that ran past its bound, or empty: while it names one the file is not set */
    LivenessFile(Path file, Clock clock, Supplier<Optional<String>> stuck) {
        this.file = file;
        this.clock = clock;
        this.stuck = stuck;
    }

    /** The client, touching the file whenever one of its calls returns or throws. */
    RegistryClient around(RegistryClient delegate) {
        return new Touching(delegate);
    }

    /** Sets the file's modification time to now, creating it if needed. Never throws: liveness is best effort. */
    void touch() {
        Optional<String> call = stuckCall();
        if (call.isPresent()) {
            if (!stuckLogged) {
                stuckLogged = true;
                log.error("not refreshing the liveness file {} (ANEFORGE_AGENT_LIVENESS_FILE): {}; a liveness probe"
                        + " reading it restarts this agent", file, call.get());
            }
            return;
        }
        stuckLogged = false;
        try {
            if (!Files.exists(file)) {
                Files.createDirectories(file.toAbsolutePath().getParent());
                Files.createFile(file);
            }
            Files.setLastModifiedTime(file, FileTime.from(clock.instant()));
            warned = false;
        } catch (IOException | RuntimeException e) {
            if (!warned) {
                warned = true;
                log.warn("cannot write the liveness file {} (ANEFORGE_AGENT_LIVENESS_FILE): {}; a liveness probe reading"
                        + " it will restart this agent", file, e.toString());
            }
        }
    }

    private Optional<String> stuckCall() {
        try {
            return stuck.get();
        } catch (RuntimeException e) {
            return Optional.empty(); // liveness is best effort: a failing check must not stop the file
        }
    }

    private final class Touching implements RegistryClient {

        private final RegistryClient delegate;

        Touching(RegistryClient delegate) {
            this.delegate = delegate;
        }

        @Override
        public AgentRegistration register(HostFacts host) {
            try {
                return delegate.register(host);
            } finally {
                touch();
            }
        }

        @Override
        public HeartbeatAck heartbeat(String agentId, List<String> heldLeaseIds) {
            try {
                return delegate.heartbeat(agentId, heldLeaseIds);
            } finally {
                touch();
            }
        }

        @Override
        public Optional<JobLease> lease(String agentId, Duration wait) {
            try {
                return delegate.lease(agentId, wait);
            } finally {
                touch();
            }
        }

        @Override
        public void report(String agentId, JobReport report) {
            try {
                delegate.report(agentId, report);
            } finally {
                touch();
            }
        }

        @Override
        public HandBack release(String agentId, String jobId, String leaseId, String reason, boolean trouble) {
            try {
                return delegate.release(agentId, jobId, leaseId, reason, trouble);
            } finally {
                touch();
            }
        }

        @Override
        public HandBack releaseLeaseRequest(String agentId, String request, String reason, boolean trouble) {
            try {
                return delegate.releaseLeaseRequest(agentId, request, reason, trouble);
            } finally {
                touch();
            }
        }

        @Override
        public void drain(String agentId, boolean draining) {
            try {
                delegate.drain(agentId, draining);
            } finally {
                touch();
            }
        }
    }
}

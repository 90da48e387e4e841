package io.aneforge.agent.loop;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.registry.AgentRegistration;
import io.aneforge.agent.registry.HeartbeatAck;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.registry.LeaseLostException;
import io.aneforge.agent.registry.RegistryClient;
import io.aneforge.agent.registry.RegistryException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's work loop: register → (heartbeat on a schedule) → lease → execute → report, one job
 * at a time.
 *
 * <ul>
 *   <li>Registry outages: every call that fails retryably is retried after {@code backoff}; a
 *       report is retried until its lease would have expired (after that another agent owns the job).
 *   <li>Lost leases: when a heartbeat says the lease in hand was taken back (it expired), the job's
 *       thread is interrupted and nothing is reported.
 *   <li>{@link #drain(Duration)} (SIGTERM): tells the registry it is draining, takes no new job, lets
 *       the job in hand finish within the timeout or releases it back to the queue, then stops.
 *   <li>A crash (or {@link #halt()}, which behaves like one) loses at most the job in hand: its lease
 *       expires and the registry gives it to another agent.
 * </ul>
 */
public final class AgentLoop {

    private static final Logger log = LoggerFactory.getLogger(AgentLoop.class);

    private final RegistryClient client;
    private final HostFacts host;
    private final JobExecutor executor;
    private final Duration leaseWait;
    private final Duration backoff;
    private final Thread thread;
    private final ScheduledExecutorService heartbeats;
    private final CountDownLatch registered = new CountDownLatch(1);
    private final AtomicLong reported = new AtomicLong();

    private volatile String agentId;
    private volatile boolean stopping;
    private volatile boolean halted;
    /** The lease being executed (null while leasing or reporting). */
    private volatile JobLease executing;
    /** The lease held from lease until report (heartbeats extend it). */
    private volatile JobLease held;
    private volatile boolean heldLost;

    /**
     * @param leaseWait how long one lease call may wait for a job (long poll)
     * @param backoff pause after a failed registry call
     */
    public AgentLoop(RegistryClient client, HostFacts host, JobExecutor executor, Duration leaseWait, Duration backoff) {
        this.client = client;
        this.host = host;
        this.executor = executor;
        this.leaseWait = leaseWait;
        this.backoff = backoff;
        this.thread = new Thread(this::run, "aneforge-agent-" + host.hostName());
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "aneforge-heartbeat-" + host.hostName());
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        thread.start();
    }

    /** The registry's id for this agent, once registered. */
    public String agentId() {
        return agentId;
    }

    /** Waits until the agent is registered. */
    public boolean awaitRegistered(Duration timeout) throws InterruptedException {
        return registered.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Reports the registry accepted (succeeded or failed jobs). */
    public long reported() {
        return reported.get();
    }

    public boolean isRunning() {
        return thread.isAlive();
    }

    private void run() {
        AgentRegistration reg = retry("register", () -> client.register(host));
        if (reg == null) {
            return;
        }
        agentId = reg.agentId();
        registered.countDown();
        log.info("agent {} registered as {}; heartbeat every {}", host.hostName(), agentId, reg.heartbeatInterval());
        long every = reg.heartbeatInterval().toMillis();
        heartbeats.scheduleWithFixedDelay(this::heartbeat, every, every, TimeUnit.MILLISECONDS);
        try {
            while (!stopping && !halted) {
                Optional<JobLease> lease;
                try {
                    lease = client.lease(agentId, leaseWait);
                } catch (RegistryException e) {
                    if (halted || stopping) {
                        break;
                    }
                    log.warn("lease failed ({}); retrying in {}", e.getMessage(), backoff);
                    pause();
                    continue;
                }
                if (lease.isEmpty()) {
                    continue;
                }
                JobLease l = lease.get();
                held = l;
                heldLost = false;
                if (stopping) {
                    releaseQuietly(l, "agent " + host.hostName() + " is shutting down");
                    break;
                }
                runAndReport(l);
                held = null;
            }
        } finally {
            heartbeats.shutdownNow();
        }
    }

    private void runAndReport(JobLease l) {
        JobReport report;
        executing = l;
        try {
            report = executor.execute(l);
        } catch (InterruptedException e) {
            report = null;
        } catch (RuntimeException e) {
            report = JobReport.failed(l, "agent " + host.hostName() + " failed to run job " + l.jobId() + ": " + e);
        } finally {
            executing = null;
            Thread.interrupted(); // an interrupt aimed at the job must not hit the report call
        }
        if (halted) {
            return; // a crash reports nothing; the lease expires
        }
        if (report == null || heldLost) {
            log.warn("job {} (lease {}) abandoned: {}", l.jobId(), l.leaseId(),
                    heldLost ? "the registry took the lease back" : "interrupted");
            return;
        }
        reportUntilExpiry(l, report);
    }

    private void reportUntilExpiry(JobLease l, JobReport report) {
        while (!halted) {
            try {
                client.report(agentId, report);
                reported.incrementAndGet();
                return;
            } catch (LeaseLostException e) {
                log.warn("report of job {} refused, the lease moved on: {}", l.jobId(), e.getMessage());
                return;
            } catch (RegistryException e) {
                if (!e.retryable()) {
                    log.error("report of job {} refused: {}", l.jobId(), e.getMessage());
                    return;
                }
                if (heldLost || Instant.now().isAfter(l.expiresAt().plus(Duration.ofHours(1)))) {
                    log.warn("giving up reporting job {}: {}", l.jobId(), e.getMessage());
                    return;
                }
                log.warn("report of job {} failed ({}); retrying in {}", l.jobId(), e.getMessage(), backoff);
                pause();
            }
        }
    }

    private void heartbeat() {
        JobLease h = held;
        try {
            HeartbeatAck ack = client.heartbeat(agentId, h == null ? List.of() : List.of(h.leaseId()));
            if (h != null && ack.lostLeaseIds().contains(h.leaseId())) {
                heldLost = true;
                if (executing == h) {
                    thread.interrupt();
                }
            }
        } catch (RuntimeException e) {
            log.warn("heartbeat failed: {}", e.getMessage());
        }
    }

    /**
     * Graceful stop (SIGTERM): take no new job; let the job in hand finish within {@code timeout},
     * else hand it back to the queue; then stop.
     */
    public void drain(Duration timeout) {
        stopping = true;
        String id = agentId;
        if (id != null) {
            try {
                client.drain(id, true);
            } catch (RuntimeException e) {
                log.warn("could not tell the registry that {} is draining: {}", host.hostName(), e.getMessage());
            }
        }
        try {
            thread.join(Math.max(1, timeout.toMillis()));
            JobLease l = executing;
            if (thread.isAlive() && l != null) {
                heldLost = true; // whatever the job produces now is not reported
                releaseQuietly(l, "agent " + host.hostName() + " shut down before job " + l.jobId() + " finished");
                thread.interrupt();
                thread.join(5_000);
            }
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(leaseWait.toMillis() + 5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            heartbeats.shutdownNow();
        }
    }

    /** Stops at once without telling the registry anything, like a crash: the lease in hand expires. */
    public void halt() {
        halted = true;
        stopping = true;
        heartbeats.shutdownNow();
        thread.interrupt();
    }

    private void releaseQuietly(JobLease l, String reason) {
        try {
            client.release(agentId, l, reason);
            log.info("released job {} back to the queue: {}", l.jobId(), reason);
        } catch (RuntimeException e) {
            log.warn("could not release job {} ({}); its lease will expire", l.jobId(), e.getMessage());
        }
    }

    private <T> T retry(String what, java.util.function.Supplier<T> call) {
        while (!stopping && !halted) {
            try {
                return call.get();
            } catch (RegistryException e) {
                log.warn("{} failed ({}); retrying in {}", what, e.getMessage(), backoff);
                if (!e.retryable() && e.status() != 409) {
                    log.error("{} refused by the registry: {}", what, e.getMessage());
                }
                pause();
            }
        }
        return null;
    }

    private void pause() {
        try {
            Thread.sleep(backoff.toMillis());
        } catch (InterruptedException e) {
            // Interrupts only ever mean "stop or drop the job": the stopping/halted flags say which,
            // and keeping the flag set would make every following call fail at once.
        }
    }
}

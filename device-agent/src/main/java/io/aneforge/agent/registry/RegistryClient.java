package io.aneforge.agent.registry;

import io.aneforge.agent.host.HostFacts;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What the agent needs from the registry (ARCHITECTURE.md, data flow step 3). Every call
 * authenticates with the {@code agent}-role bearer token; an agent may heartbeat, report and
 * release only leases it holds. Transport failures and 5xx answers throw
 * {@link RegistryException} with {@link RegistryException#retryable()} set.
 */
public interface RegistryClient {

    /** Registers (or re-registers, idempotently by host name) this host; returns the agent's id. */
    AgentRegistration register(HostFacts host);

    /**
     * Extends the leases this agent holds. Leases the registry no longer honours (expired and
     * requeued) come back in {@link HeartbeatAck#lostLeaseIds()}: stop working on them.
     */
    HeartbeatAck heartbeat(String agentId, List<String> heldLeaseIds);

    /**
     * Leases one job matching this agent's chip and runtimes, waiting up to {@code wait} for one
     * to appear; empty when there is none.
     *
     * @throws UnreadableLeaseException when a job was leased but the answer cannot be read (with its ids when
     *     those can be)
     * @throws LeaseAnswerLostException when the call got no answer (a reset, a timeout, a body cut short) or a
     *     proxy's 5xx: a job may have been leased for it, now or later
     */
    Optional<JobLease> lease(String agentId, Duration wait);

    /**
     * Reports a finished lease; repeating a report for the same lease is idempotent.
     *
     * @throws LeaseLostException when the agent no longer holds the lease (it expired and moved on)
     */
    void report(String agentId, JobReport report);

    /**
     * Hands a leased job back to the queue without spending an attempt. {@code trouble}: the job could not run for
     * a reason that is not its own (a transfer or host problem, an answer the agent could not read); the registry
     * counts those per job and agent and past its bound fails the job instead (the answer says so). Without
     * trouble (graceful shutdown, a report it could not deliver) nothing is counted.
     */
    HandBack release(String agentId, String jobId, String leaseId, String reason, boolean trouble);

    /** A release without trouble (not counted). */
    default void release(String agentId, String jobId, String leaseId, String reason) {
        release(agentId, jobId, leaseId, reason, false);
    }

    /** {@link #release(String, String, String, String)} for a lease in hand. */
    default void release(String agentId, JobLease lease, String reason) {
        release(agentId, lease.jobId(), lease.leaseId(), reason);
    }

    /**
     * Releases the lease the registry granted for the lease call {@code request}
     * ({@link UnreadableLeaseException#request()}, {@link LeaseAnswerLostException#request()}) whose answer this agent
     * could not read or never got: it names no lease, but the registry kept the request id with the lease. Counted
     * like a release for trouble. Answers {@link HandBack#NONE} when this agent holds no lease for that request (the
     * call never reached the registry, there was no job, or not yet: a call still on its way or in its long poll).
     */
    default HandBack releaseLeaseRequest(String agentId, String request, String reason) {
        return releaseLeaseRequest(agentId, request, reason, true);
    }

    /**
     * As {@link #releaseLeaseRequest(String, String, String)}; {@code trouble} false says the job never reached this
     * agent for a reason of its own (a drain cut the call short; the call was the long poll of an agent process that
     * ended, released by the next one), so the registry does not count it against the job and this agent. A registry
     * before that ignores it and counts.
     */
    HandBack releaseLeaseRequest(String agentId, String request, String reason, boolean trouble);

    /** Takes no new jobs (true) or resumes (false); shown to operators as the agent's state. */
    void drain(String agentId, boolean draining);
}

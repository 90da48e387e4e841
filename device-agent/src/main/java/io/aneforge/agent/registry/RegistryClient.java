package io.aneforge.agent.registry;

import io.aneforge.agent.host.HostFacts;
import java.util.List;
import java.util.Optional;

/**
 * What the agent needs from the registry (ARCHITECTURE.md, data flow step 3). Not
 * implemented yet: the HTTP side comes with the registry's agent endpoints. Every call
 * authenticates with the {@code agent}-role bearer token; an agent may heartbeat and report
 * only on leases it holds.
 */
public interface RegistryClient {

    /** Registers (or re-registers, idempotently by host name) this host; returns the agent's id. */
    AgentRegistration register(HostFacts host);

    /**
     * Extends the leases this agent holds. Leases the registry no longer honours (expired and
     * requeued) come back in {@link HeartbeatAck#lostLeaseIds()}: stop working on them.
     */
    HeartbeatAck heartbeat(String agentId, List<String> heldLeaseIds);

    /** Leases one job matching this agent's chip and runtimes, or empty when there is none. */
    Optional<JobLease> lease(String agentId);

    /** Reports a finished lease; repeating a report for the same lease is idempotent. */
    void report(String agentId, JobReport report);
}

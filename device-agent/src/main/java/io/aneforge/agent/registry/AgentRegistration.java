package io.aneforge.agent.registry;

import java.time.Duration;

/**
 * @param agentId the registry's id for this agent
 * @param heartbeatInterval how often to heartbeat while holding a lease (well under the lease duration)
 */
public record AgentRegistration(String agentId, Duration heartbeatInterval) {

    public AgentRegistration {
        if (agentId == null || agentId.isBlank()) {
            throw new IllegalArgumentException("agentId must not be blank");
        }
        if (heartbeatInterval == null || heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
            throw new IllegalArgumentException("heartbeatInterval must be positive, got " + heartbeatInterval);
        }
    }
}

package io.aneforge.agent.registry;

import java.time.Duration;
import java.util.List;

/**
 * @param agentId the registry's id for this agent
 * @param heartbeatInterval how often to heartbeat while holding a lease (well under the lease duration)
 * @param handedBack jobs an earlier process of this agent instance still held, back in the queue since this
 *     registration (no attempt spent); empty from a registry before instances or when none were held
 * @param failedAtHandBack such jobs the registry failed instead: handed back by this agent once too often
 *     ({@code aneforge.jobs.max-hand-backs}; a job that kills its agent every time it runs ends there)
 */
public record AgentRegistration(String agentId, Duration heartbeatInterval, List<String> handedBack,
        List<String> failedAtHandBack) {

    public AgentRegistration {
        if (agentId == null || agentId.isBlank()) {
            throw new IllegalArgumentException("agentId must not be blank");
        }
        if (heartbeatInterval == null || heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
            throw new IllegalArgumentException("heartbeatInterval must be positive, got " + heartbeatInterval);
        }
        handedBack = handedBack == null ? List.of() : List.copyOf(handedBack);
        failedAtHandBack = failedAtHandBack == null ? List.of() : List.copyOf(failedAtHandBack);
    }

    /** A registration that handed nothing back. */
    public AgentRegistration(String agentId, Duration heartbeatInterval) {
        this(agentId, heartbeatInterval, List.of(), List.of());
    }
}

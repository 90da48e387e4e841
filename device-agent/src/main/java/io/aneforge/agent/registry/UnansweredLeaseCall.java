package io.aneforge.agent.registry;

import java.time.Instant;
import java.util.UUID;

/**
 * A lease call an ended agent process had out and never saw answered ({@link LeaseCallLog}): the registry may have
 * granted it a lease, or still may if it waits in the long poll. The next process on the same instance slot
 * releases it by request, without trouble: the job never reached an agent.
 *
 * @param agentId the agent id the call was made as (agents on one host share one)
 * @param request the {@code ?request=} id the call carried
 * @param sentAt when the call was sent
 */
public record UnansweredLeaseCall(String agentId, String request, Instant sentAt) {

    public UnansweredLeaseCall {
        if (agentId == null || agentId.isBlank()) {
            throw new IllegalArgumentException("an unanswered lease call needs the agent id it was made as");
        }
        UUID.fromString(request); // the registry takes only a UUID as a request id: anything else cannot be released
        if (sentAt == null) {
            throw new IllegalArgumentException("an unanswered lease call needs the time it was sent");
        }
    }
}

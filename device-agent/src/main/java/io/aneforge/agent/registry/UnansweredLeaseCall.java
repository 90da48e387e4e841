package io.aneforge.agent.registry;

import java.time.Instant;
import java.util.UUID;

/**
 * A lease call an ended agent process had out and never saw answered ({@link LeaseCallLog}): the registry may have
 * granted it a lease, or still may if it waits in the long poll. The next process on the same instance slot
 * releases it by request, without trouble: the job never reached an agent.
 *
 * @param agentId the agent id the call was made as (agents on one host share one): a UUID, as the registry gives
 * @param request the {@code ?request=} id the call carried: a UUID, as the registry takes
 * @param sentAt when the call was sent
 */
public record UnansweredLeaseCall(String agentId, String request, Instant sentAt) {

    /**
     * Both ids go into the path of the release ({@code /agents/{agentId}/lease-requests/{request}/release}) and come
     * from a file: only the canonical form of a UUID is taken, so no other text ends up in a URL.
     */
    public UnansweredLeaseCall {
        uuid(agentId, "agent id");
        uuid(request, "request id");
        if (sentAt == null) {
            throw new IllegalArgumentException("an unanswered lease call needs the time it was sent");
        }
    }

    private static void uuid(String value, String what) {
        boolean canonical;
        try {
            canonical = value != null && UUID.fromString(value).toString().equalsIgnoreCase(value);
        } catch (IllegalArgumentException e) {
            canonical = false;
        }
        if (!canonical) {
            throw new IllegalArgumentException("the " + what + " of an unanswered lease call must be a UUID"
                    + " (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got " + (value == null ? "none" : "'" + value + "'"));
        }
    }
}

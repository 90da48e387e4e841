package io.aneforge.agent.registry;

import java.time.Instant;
import java.util.List;

/**
 * @param extendedUntil new expiry of the leases that were extended
 * @param lostLeaseIds leases the registry took back (expired and requeued); abandon their work
 * @param draining an operator asked this agent to take no new jobs
 */
public record HeartbeatAck(Instant extendedUntil, List<String> lostLeaseIds, boolean draining) {

    public HeartbeatAck {
        lostLeaseIds = List.copyOf(lostLeaseIds);
    }
}

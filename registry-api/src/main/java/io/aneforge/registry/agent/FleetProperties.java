package io.aneforge.registry.agent;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code aneforge.agents.*}: the contract between the registry and its device agents.
 *
 * @param leaseDuration how long a lease lives without a heartbeat; an expired lease returns the job to the queue
 * @param offlineAfter an agent not heard from (registration, heartbeat, lease, report) for this long is offline
 * @param maxLeaseWait longest long-poll a lease call may ask for ({@code ?wait=})
 */
@ConfigurationProperties("aneforge.agents")
public record FleetProperties(Duration leaseDuration, Duration offlineAfter, Duration maxLeaseWait) {

    public FleetProperties {
        if (leaseDuration == null) leaseDuration = Duration.ofMinutes(5);
        if (offlineAfter == null) offlineAfter = Duration.ofMinutes(2);
        if (maxLeaseWait == null) maxLeaseWait = Duration.ofSeconds(30);
        if (leaseDuration.toMillis() < 100) {
            throw new IllegalArgumentException("aneforge.agents.lease-duration must be at least 100ms, got " + leaseDuration);
        }
        if (offlineAfter.isNegative() || offlineAfter.isZero()) {
            throw new IllegalArgumentException("aneforge.agents.offline-after must be positive, got " + offlineAfter);
        }
        if (maxLeaseWait.isNegative()) {
            throw new IllegalArgumentException("aneforge.agents.max-lease-wait must be >= 0, got " + maxLeaseWait);
        }
    }

    /** Agents heartbeat three times per lease so one lost heartbeat never costs the lease. */
    public Duration heartbeatInterval() {
        return leaseDuration.dividedBy(3);
    }
}

package io.aneforge.registry.job;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code aneforge.jobs.*}.
 *
 * @param maxAttempts leases handed out per job before an expired lease fails it
 * @param sweepInterval how often expired leases are returned to the queue (or failed)
 * @param protocol the benchmark protocol sent with every benchmark job
 */
@ConfigurationProperties("aneforge.jobs")
public record JobProperties(Integer maxAttempts, Duration sweepInterval, Protocol protocol) {

    public JobProperties {
        if (maxAttempts == null) maxAttempts = 3;
        if (sweepInterval == null) sweepInterval = Duration.ofSeconds(1);
        if (protocol == null) protocol = new Protocol(null, null, null);
        if (maxAttempts < 1) throw new IllegalArgumentException("aneforge.jobs.max-attempts must be >= 1, got " + maxAttempts);
    }

    public record Protocol(Integer warmupIterations, Integer timedIterations, Duration maxDuration) {
        public Protocol {
            if (warmupIterations == null) warmupIterations = 10;
            if (timedIterations == null) timedIterations = 100;
            if (maxDuration == null) maxDuration = Duration.ofMinutes(5);
        }
    }
}

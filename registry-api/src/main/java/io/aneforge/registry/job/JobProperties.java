package io.aneforge.registry.job;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code aneforge.jobs.*}.
 *
 * @param maxAttempts leases handed out per job before an expired lease fails it
 * @param sweepInterval how often expired leases are returned to the queue (or failed)
 * @param protocol the benchmark protocol sent with every benchmark job
 * @param maxHandBacks how often one agent may hand one job back for trouble that is not the job's own (a transfer
 *     or host problem, a lease answer it could not read) before the registry fails the job instead of taking it
 *     back: releases spend no attempt, so without a bound a permanent problem would bring the same (oldest) job
 *     back to that agent for ever. Counted per job and agent in the database (survives agent restarts).
 */
@ConfigurationProperties("aneforge.jobs")
public record JobProperties(Integer maxAttempts, Duration sweepInterval, Protocol protocol, Integer maxHandBacks) {

    public JobProperties {
        if (maxAttempts == null) maxAttempts = 3;
        if (sweepInterval == null) sweepInterval = Duration.ofSeconds(1);
        if (protocol == null) protocol = new Protocol(null, null, null);
        if (maxHandBacks == null) maxHandBacks = 2;
        if (maxAttempts < 1) throw new IllegalArgumentException("aneforge.jobs.max-attempts must be >= 1, got " + maxAttempts);
        if (maxHandBacks < 0) {
            throw new IllegalArgumentException("aneforge.jobs.max-hand-backs (ANEFORGE_JOBS_MAX_HAND_BACKS) must be 0 or"
                    + " more (hand-backs of one job by one agent before the next one fails the job); got " + maxHandBacks);
        }
    }

    public record Protocol(Integer warmupIterations, Integer timedIterations, Duration maxDuration) {
        public Protocol {
            if (warmupIterations == null) warmupIterations = 10;
            if (timedIterations == null) timedIterations = 100;
            if (maxDuration == null) maxDuration = Duration.ofMinutes(5);
        }
    }
}

package io.aneforge.registry.conversion;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;

/**
 * {@code aneforge.conversions.*} (application.yml, environment {@code ANEFORGE_CONVERSIONS_*}), checked when the
 * registry starts so that a bad value stops it with a message naming the variable instead of misbehaving later.
 *
 * @param leaseDuration how long a worker's lease lasts without a heartbeat or progress report
 * @param maxAttempts leases per conversion; when the last one expires the conversion fails
 * @param freeReleases releases of one conversion that give its attempt back; every later release leaves it spent,
 *     so a conversion whose own build gets its worker stopped each time still runs out of attempts. Rolling updates
 *     and registry outages release a conversion a few times; 0 makes every release spend the attempt.
 * @param maxHandBacks how often one worker may hand one conversion back for trouble that is not the conversion's own
 *     (the registry unreachable through its retries, the worker unable to run the job, a lease answer it could not
 *     read) before the registry fails the conversion instead of taking it back: without a bound a worker that can
 *     never get through would bring the same conversion back for ever. Counted per conversion and worker in the
 *     database (survives worker restarts); a stopping worker's release is not counted.
 * @param workerWindow a converter worker that asked for work ({@code POST /conversions/lease}) within this window, or
 *     holds an unexpired lease, counts as running when a queued conversion's {@code waitingFor} is worked out and in
 *     {@code GET /api/v1/workers}; it must be longer than the workers' poll interval ({@code
 *     ANEFORGE_WORKER_POLL_INTERVAL}, 5 s by default). A worker's row is written at most once per quarter of it.
 */
@ConfigurationProperties("aneforge.conversions")
public record ConversionProperties(Duration leaseDuration, Integer maxAttempts, Integer freeReleases,
                                   Integer maxHandBacks, Duration workerWindow) {

    public ConversionProperties {
        if (leaseDuration == null) leaseDuration = Duration.ofSeconds(60);
        if (maxAttempts == null) maxAttempts = 3;
        if (freeReleases == null) freeReleases = 10;
        if (maxHandBacks == null) maxHandBacks = 3;
        if (workerWindow == null) workerWindow = Duration.ofMinutes(2);
        if (leaseDuration.isNegative() || leaseDuration.isZero()) {
            throw new IllegalArgumentException("aneforge.conversions.lease-duration (ANEFORGE_CONVERSIONS_LEASE_DURATION)"
                    + " must be positive, e.g. 60s; got " + leaseDuration);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("aneforge.conversions.max-attempts (ANEFORGE_CONVERSIONS_MAX_ATTEMPTS)"
                    + " must be at least 1; got " + maxAttempts);
        }
        if (freeReleases < 0) {
            throw new IllegalArgumentException("aneforge.conversions.free-releases (ANEFORGE_CONVERSIONS_FREE_RELEASES)"
                    + " must be 0 or more (releases of one conversion that give its attempt back); got " + freeReleases);
        }
        if (maxHandBacks < 0) {
            throw new IllegalArgumentException("aneforge.conversions.max-hand-backs (ANEFORGE_CONVERSIONS_MAX_HAND_BACKS)"
                    + " must be 0 or more (hand-backs of one conversion by one worker before the next one fails the"
                    + " conversion); got " + maxHandBacks);
        }
        if (workerWindow.compareTo(Duration.ofSeconds(30)) < 0) {
            // the registry cannot see the workers' poll interval: 30 s is six of their default 5 s polls, so an idle
            // worker does not flap between running and absent
            throw new IllegalArgumentException("aneforge.conversions.worker-window (ANEFORGE_CONVERSIONS_WORKER_WINDOW)"
                    + " must be at least 30s, and well above the workers' poll interval (ANEFORGE_WORKER_POLL_INTERVAL,"
                    + " 5s by default), e.g. 2m; got " + workerWindow);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(ConversionProperties.class)
    static class Enable {}
}

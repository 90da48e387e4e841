package io.aneforge.worker.pipeline;

import io.aneforge.worker.registry.RegistryException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The outcome of the worker's last lease call, as the {@code registry} health indicator in the readiness group: a
 * worker whose token the registry refuses, or that cannot reach the registry, converts nothing and must not report
 * ready. Also decides how loudly and how often a failing lease call is logged and retried: the first failure of a
 * kind is logged naming the setting to fix, then again at growing intervals (1 minute doubling to 1 hour) rather
 * than every poll; a refused token (401/403), which only an operator can fix, also slows polling (the poll
 * interval doubling to {@link #MAX_REFUSED_WAIT}) so a wrong token does not hammer the registry.
 */
public final class RegistryHealth implements HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(ConversionRunner.class);

    static final Duration MAX_REFUSED_WAIT = Duration.ofMinutes(1);
    private static final Duration FIRST_REPEAT = Duration.ofMinutes(1);
    private static final Duration MAX_REPEAT = Duration.ofHours(1);

    private final URI registryUrl;
    private final Clock clock;

    /** Null before the first call or after a successful one. Guarded by this. */
    private String problem;
    private int failureStatus;
    private int failures;
    private Instant since;
    private Instant lastLogged;
    private Duration repeat;
    private boolean called;

    public RegistryHealth(URI registryUrl, Clock clock) {
        this.registryUrl = registryUrl;
        this.clock = clock;
    }

    @Override
    public synchronized Health health() {
        if (!called) {
            return Health.unknown().withDetail("registry", String.valueOf(registryUrl))
                    .withDetail("lease", "no lease call yet").build();
        }
        if (problem == null) {
            return Health.up().withDetail("registry", String.valueOf(registryUrl)).build();
        }
        return Health.down().withDetail("registry", String.valueOf(registryUrl)).withDetail("error", problem)
                .withDetail("failedCalls", failures).withDetail("since", since.toString()).build();
    }

    /** A lease call got an answer (a lease or an empty queue). */
    public synchronized void succeeded() {
        if (problem != null) {
            log.info("lease calls to {} work again after {} failed calls since {}", registryUrl, failures, since);
        }
        called = true;
        problem = null;
        failures = 0;
    }

    /**
     * A lease call failed. Logs per the rule above and returns how long to wait before the next call.
     */
    public synchronized Duration failed(RegistryException e, Duration pollInterval) {
        Instant now = clock.instant();
        called = true;
        boolean sameKind = problem != null && failureStatus == e.status();
        problem = describe(e);
        if (!sameKind) {
            failures = 0;
            since = now;
            failureStatus = e.status();
            lastLogged = now;
            repeat = FIRST_REPEAT;
            if (refused(e.status())) {
                log.error("{}", problem);
            } else {
                log.warn("{}", problem);
            }
        } else if (!now.isBefore(lastLogged.plus(repeat))) {
            log.warn("{} (still failing: {} calls since {}; next report in {})", problem, failures + 1, since,
                    min(repeat.multipliedBy(2), MAX_REPEAT));
            lastLogged = now;
            repeat = min(repeat.multipliedBy(2), MAX_REPEAT);
        }
        failures++;
        if (!refused(e.status())) {
            return pollInterval;
        }
        // pollInterval × 2^(failures-1), capped; the shift is bounded so it cannot overflow.
        Duration wait = pollInterval.multipliedBy(1L << Math.min(failures - 1, 20));
        return min(wait, max(pollInterval, MAX_REFUSED_WAIT));
    }

    private static boolean refused(int status) {
        return status == 401 || status == 403;
    }

    private String describe(RegistryException e) {
        if (e.status() == 0 && !e.isTransient()) {
            return "cannot lease: " + e.getMessage(); // interrupted: the worker is stopping
        }
        return switch (e.status()) {
            case 401 -> "the registry at " + registryUrl + " refuses the worker's token (" + e.getMessage() + "): set "
                    + "ANEFORGE_WORKER_TOKEN to a token with the worker (or admin) role; the worker converts nothing"
                    + " and reports unready until then";
            case 403 -> "the registry at " + registryUrl + " refuses the worker's token for leasing (" + e.getMessage()
                    + "): ANEFORGE_WORKER_TOKEN needs the worker (or admin) role; the worker converts nothing and"
                    + " reports unready until then";
            case 0 -> "cannot lease: " + e.getMessage() + "; check ANEFORGE_REGISTRY_URL (" + registryUrl
                    + ") and that the registry runs; the worker reports unready until it answers";
            default -> "cannot lease: " + e.getMessage();
        };
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}

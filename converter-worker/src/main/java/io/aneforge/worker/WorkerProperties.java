package io.aneforge.worker;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;

/**
 * Worker configuration ({@code aneforge.worker.*}, each documented with its environment variable in
 * application.yml).
 *
 * @param registryUrl base URL of the registry, e.g. http://registry:8080
 * @param token bearer token with the worker role
 * @param id stable worker id: a restarted worker re-leases the conversions it held under this id; default
 *           (unset or blank): this host's name ({@link WorkerId})
 * @param concurrency variant partitions built in parallel
 * @param workDir scratch space for packages and archives (one directory per conversion)
 * @param pollInterval wait between lease attempts while the queue is empty
 * @param poll whether to lease conversions at all (false: only recover; used by tests)
 * @param requestTimeout bound of a small JSON call to the registry, from sending it to the end of the answer's
 *                       body; a heartbeat waits at most a third of the lease, and never longer than this
 * @param transferTimeout the same bound for blob uploads, which stream whole archives
 * @param retries how often a failed call that is safe to repeat is tried again when the failure is transient
 *                (connection refused or reset, timeout, HTTP 429, 502, 503, 504)
 * @param retryBackoff wait before the first retry, doubled for each further one
 */
@ConfigurationProperties("aneforge.worker")
public record WorkerProperties(URI registryUrl, String token, String id, int concurrency, Path workDir,
                               Duration pollInterval, boolean poll, Duration requestTimeout, Duration transferTimeout,
                               Integer retries, Duration retryBackoff) {

    /** The settings without the registry-call tuning (defaults for those). */
    public WorkerProperties(URI registryUrl, String token, String id, int concurrency, Path workDir, Duration pollInterval,
                            boolean poll) {
        this(registryUrl, token, id, concurrency, workDir, pollInterval, poll, null, null, 3, null);
    }

    @ConstructorBinding
    public WorkerProperties {
        if (registryUrl == null) throw new IllegalArgumentException("ANEFORGE_REGISTRY_URL (aneforge.worker.registry-url) is required");
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("ANEFORGE_WORKER_TOKEN (aneforge.worker.token) is required: mint a token"
                    + " with role 'worker' via POST /api/v1/tokens");
        }
        // Unset: this host's name (WorkerId says why not the HOSTNAME variable alone).
        id = id == null || id.isBlank() ? WorkerId.ofThisHost() : id.trim();
        if (concurrency < 1) throw new IllegalArgumentException("ANEFORGE_WORKER_CONCURRENCY must be at least 1, got " + concurrency);
        if (workDir == null) throw new IllegalArgumentException("ANEFORGE_WORKER_WORK_DIR is required");
        if (pollInterval == null || pollInterval.isNegative() || pollInterval.isZero()) pollInterval = Duration.ofSeconds(5);
        if (requestTimeout == null) requestTimeout = Duration.ofSeconds(10);
        if (transferTimeout == null) transferTimeout = Duration.ofMinutes(10);
        if (retryBackoff == null) retryBackoff = Duration.ofMillis(500);
        if (retries == null) retries = 3;
        requirePositive(requestTimeout, "ANEFORGE_WORKER_REQUEST_TIMEOUT");
        requirePositive(transferTimeout, "ANEFORGE_WORKER_TRANSFER_TIMEOUT");
        if (retryBackoff.isNegative()) {
            throw new IllegalArgumentException("ANEFORGE_WORKER_RETRY_BACKOFF must not be negative, got " + retryBackoff);
        }
        if (retries < 0 || retries > 10) {
            throw new IllegalArgumentException("ANEFORGE_WORKER_RETRIES must be between 0 and 10, got " + retries);
        }
    }

    private static void requirePositive(Duration d, String variable) {
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(variable + " must be positive, got " + d);
    }
}

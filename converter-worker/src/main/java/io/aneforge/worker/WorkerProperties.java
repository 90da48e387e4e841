package io.aneforge.worker;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Worker configuration ({@code aneforge.worker.*}, each documented with its environment variable in
 * application.yml).
 *
 * @param registryUrl base URL of the registry, e.g. http://registry:8080
 * @param token bearer token with the worker role
 * @param id stable worker id: a restarted worker re-leases the conversions it held under this id
 * @param concurrency variant partitions built in parallel
 * @param workDir scratch space for packages and archives (one directory per conversion)
 * @param pollInterval wait between lease attempts while the queue is empty
 * @param poll whether to lease conversions at all (false: only recover; used by tests)
 */
@ConfigurationProperties("aneforge.worker")
public record WorkerProperties(URI registryUrl, String token, String id, int concurrency, Path workDir,
                               Duration pollInterval, boolean poll) {

    public WorkerProperties {
        if (registryUrl == null) throw new IllegalArgumentException("ANEFORGE_REGISTRY_URL (aneforge.worker.registry-url) is required");
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("ANEFORGE_WORKER_TOKEN (aneforge.worker.token) is required: mint a token"
                    + " with role 'worker' via POST /api/v1/tokens");
        }
        if (id == null || id.isBlank()) throw new IllegalArgumentException("ANEFORGE_WORKER_ID (aneforge.worker.id) must not be blank");
        if (concurrency < 1) throw new IllegalArgumentException("ANEFORGE_WORKER_CONCURRENCY must be at least 1, got " + concurrency);
        if (workDir == null) throw new IllegalArgumentException("ANEFORGE_WORKER_WORK_DIR is required");
        if (pollInterval == null || pollInterval.isNegative() || pollInterval.isZero()) pollInterval = Duration.ofSeconds(5);
    }
}

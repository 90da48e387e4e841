package io.aneforge.worker.pipeline;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * The builds this worker's running partitions have claimed, per conversion and build id
 * ({@code VariantSpec.buildId()}): variants that differ only in the chip have the same package, so the first
 * partition of a build converts and uploads it, and the others wait for its digest and register it for their
 * chip. A claim is completed by its partition, with the archive's hex sha256 or with the failure that stopped it
 * (then a waiting partition builds the package itself).
 */
@Component
class SharedBuilds {

    private final Map<Long, Map<String, CompletableFuture<String>>> claims = new ConcurrentHashMap<>();

    /**
     * Claims {@code buildId} of conversion {@code conversionId} with {@code mine}; returns null when the caller now
     * holds the claim (it must complete {@code mine}, also when it fails), else the earlier claim to wait for.
     */
    CompletableFuture<String> claim(long conversionId, String buildId, CompletableFuture<String> mine) {
        return claims.computeIfAbsent(conversionId, id -> new ConcurrentHashMap<>()).putIfAbsent(buildId, mine);
    }

    /** Forgets a failed claim, so that the next partition of the build claims it afresh. */
    void release(long conversionId, String buildId, CompletableFuture<String> claim) {
        Map<String, CompletableFuture<String>> builds = claims.get(conversionId);
        if (builds != null) builds.remove(buildId, claim);
    }

    void evict(long conversionId) {
        claims.remove(conversionId);
    }
}

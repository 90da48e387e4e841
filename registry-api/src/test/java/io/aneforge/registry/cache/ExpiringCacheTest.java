package io.aneforge.registry.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A value loaded before an invalidation is handed out once but never kept. */
class ExpiringCacheTest {

    @Test
    void aLoadOverlappingAnInvalidationIsNotKept() {
        ExpiringCache<String, String> cache = new ExpiringCache<>(Duration.ofMinutes(1), 100);
        AtomicInteger loads = new AtomicInteger();
        // the writer commits and invalidates while this load is reading the old row
        String first = cache.get("k", k -> {
            loads.incrementAndGet();
            cache.invalidateAll();
            return "old";
        });
        assertThat(first).isEqualTo("old");
        assertThat(cache.get("k", k -> {
            loads.incrementAndGet();
            return "new";
        })).isEqualTo("new");
        assertThat(loads).hasValue(2);
        // a load with no invalidation in between is kept
        assertThat(cache.get("k", k -> "never loaded")).isEqualTo("new");
    }

    @Test
    void invalidateAfterCommitOutsideATransactionInvalidatesAtOnce() {
        ExpiringCache<String, String> cache = new ExpiringCache<>(Duration.ofMinutes(1), 100);
        cache.get("k", k -> "old");
        cache.invalidateAfterCommit();
        assertThat(cache.get("k", k -> "new")).isEqualTo("new");
    }
}

package io.aneforge.registry.cache;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * A small time-bounded cache for hot read paths (token look-ups, resolve answers). Local writes
 * invalidate it once they are committed ({@link #invalidateAfterCommit()}, or {@link #invalidateAll()}
 * from an after-commit listener); other registry instances see a change within the TTL, which is
 * why the TTL is short and configurable ({@code aneforge.cache-ttl}). A TTL of zero disables caching.
 *
 * <p>Every invalidation starts a new generation. A value loaded in an older generation is handed to
 * its caller but not kept: a load that read the database before a writer committed may finish after
 * the writer's invalidation, and keeping it would serve the old row for a whole TTL.
 */
public final class ExpiringCache<K, V> {

    private record Entry<V>(V value, long expiresAtNanos) {}

    private final ConcurrentHashMap<K, Entry<V>> map = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();
    private final long ttlNanos;
    private final int maxEntries;

    public ExpiringCache(Duration ttl, int maxEntries) {
        this.ttlNanos = ttl.toNanos();
        this.maxEntries = maxEntries;
    }

    /** The cached value, or {@code loader}'s (which may throw; failures are not cached). */
    public V get(K key, Function<K, V> loader) {
        if (ttlNanos <= 0) return loader.apply(key);
        long now = System.nanoTime();
        Entry<V> e = map.get(key);
        if (e != null && e.expiresAtNanos - now > 0) return e.value;
        long loadedIn = generation.get();
        V v = loader.apply(key);
        if (generation.get() != loadedIn) return v; // invalidated while loading: possibly stale
        // Bounded by clearing: simpler than LRU and the working set (models x devices) is small.
        if (map.size() >= maxEntries) map.clear();
        Entry<V> fresh = new Entry<>(v, now + ttlNanos);
        map.put(key, fresh);
        // An invalidation between the check above and the put: its clear may have run before the put.
        if (generation.get() != loadedIn) map.remove(key, fresh);
        return v;
    }

    /** Drops everything now. The generation moves first, so a load running now is not kept either. */
    public void invalidateAll() {
        generation.incrementAndGet();
        map.clear();
    }

    /**
     * Drops everything once the current transaction commits (at once when there is none): invalidating
     * before the commit would let a concurrent reader cache the old row again for a whole TTL.
     */
    public void invalidateAfterCommit() {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            invalidateAll();
            return;
        }
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                invalidateAll();
            }
        });
    }
}

package io.aneforge.registry.cache;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A small time-bounded cache for hot read paths (token look-ups, resolve answers). Local writes
 * call {@link #invalidateAll()}; other registry instances see a change within the TTL, which is
 * why the TTL is short and configurable ({@code aneforge.cache-ttl}). A TTL of zero disables caching.
 */
public final class ExpiringCache<K, V> {

    private record Entry<V>(V value, long expiresAtNanos) {}

    private final ConcurrentHashMap<K, Entry<V>> map = new ConcurrentHashMap<>();
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
        V v = loader.apply(key);
        // Bounded by clearing: simpler than LRU and the working set (models x devices) is small.
        if (map.size() >= maxEntries) map.clear();
        map.put(key, new Entry<>(v, now + ttlNanos));
        return v;
    }

    public void invalidateAll() {
        map.clear();
    }
}

package io.aneforge.agent.cache;

import io.aneforge.mlpackage.PackageArchive;

/**
 * The agent's limits for unpacking an archive it did not make: a zip bomb or an archive with millions
 * of entries must fail with a clear message instead of filling the disk. Enforced by ane-core's
 * {@link PackageArchive#unzip}; the agent's defaults are wider than ane-core's (it caches models
 * converted elsewhere, up to 16 GiB).
 */
public record UnzipLimits(int maxEntries, long maxTotalBytes, long maxEntryBytes) {

    public UnzipLimits {
        if (maxEntries <= 0 || maxTotalBytes <= 0 || maxEntryBytes <= 0) {
            throw new IllegalArgumentException("unzip limits must be > 0, got entries=" + maxEntries
                    + " total=" + maxTotalBytes + " entry=" + maxEntryBytes);
        }
    }

    /** Up to 10,000 entries and 16 GiB unpacked: far above any mlpackage, far below a full disk. */
    public static UnzipLimits defaults() {
        return new UnzipLimits(10_000, 16L << 30, 16L << 30);
    }

    PackageArchive.Limits toArchiveLimits() {
        return new PackageArchive.Limits(maxEntries, maxEntryBytes, maxTotalBytes);
    }
}

package io.aneforge.agent.cache;

/**
 * Limits for unpacking an archive we did not make: a zip bomb or an archive with millions
 * of entries must fail with a clear message instead of filling the disk.
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
}

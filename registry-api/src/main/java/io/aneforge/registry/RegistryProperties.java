package io.aneforge.registry;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Everything under {@code aneforge.*}; application.yml documents each property and its
 * environment variable. Read once at start; nothing changes it afterwards.
 */
@ConfigurationProperties("aneforge")
public record RegistryProperties(String adminToken, Path dataDir, String publicBaseUrl, S3 s3, Blobs blobs,
                                 Archive archive, Duration cacheTtl, Boolean resolveFastPath, String downloadSigningKey,
                                 Duration downloadUrlTtl, String downloadSigningKeyPrevious) {

    /** The longest {@code aneforge.download-url-ttl}: a signed URL cannot be revoked, only outlived. */
    public static final Duration MAX_DOWNLOAD_URL_TTL = Duration.ofHours(24);

    public RegistryProperties {
        if (dataDir == null) dataDir = Path.of(".aneforge", "data");
        if (s3 == null) s3 = new S3(null, null, null, null, null);
        if (blobs == null) blobs = new Blobs(null);
        if (archive == null) archive = new Archive(null, null);
        if (cacheTtl == null) cacheTtl = Duration.ofSeconds(5);
        if (cacheTtl.isNegative()) {
            throw new IllegalArgumentException("aneforge.cache-ttl (ANEFORGE_CACHE_TTL) must be 0s (no caching) or more,"
                    + " e.g. 5s; got " + cacheTtl);
        }
        if (resolveFastPath == null) resolveFastPath = Boolean.TRUE;
        if (downloadSigningKey != null && downloadSigningKey.isBlank()) downloadSigningKey = null;
        if (downloadSigningKeyPrevious != null && downloadSigningKeyPrevious.isBlank()) downloadSigningKeyPrevious = null;
        if (downloadSigningKeyPrevious != null && downloadSigningKey == null) {
            throw new IllegalArgumentException("aneforge.download-signing-key-previous (ANEFORGE_DOWNLOAD_SIGNING_KEY_PREVIOUS)"
                    + " is set without aneforge.download-signing-key (ANEFORGE_DOWNLOAD_SIGNING_KEY): the previous key only"
                    + " accepts URLs minted before a rotation while the current key signs new ones; set the current key too,"
                    + " or unset the previous one");
        }
        if (downloadUrlTtl == null) downloadUrlTtl = Duration.ofMinutes(15);
        if (downloadUrlTtl.isNegative() || downloadUrlTtl.isZero() || downloadUrlTtl.compareTo(MAX_DOWNLOAD_URL_TTL) > 0) {
            throw new IllegalArgumentException("aneforge.download-url-ttl (ANEFORGE_DOWNLOAD_URL_TTL) must be more than 0s"
                    + " and at most 24h (a signed URL cannot be revoked before it expires), e.g. 15m; got " + downloadUrlTtl);
        }
        if (publicBaseUrl != null && publicBaseUrl.endsWith("/")) {
            publicBaseUrl = publicBaseUrl.substring(0, publicBaseUrl.length() - 1);
        }
    }

    /** @param endpoint null or blank: start the embedded S3 server */
    public record S3(String endpoint, String accessKey, String secretKey, String bucket, String region) {
        public S3 {
            if (bucket == null || bucket.isBlank()) bucket = "aneforge";
            if (region == null || region.isBlank()) region = "us-east-1";
        }

        public boolean embedded() {
            return endpoint == null || endpoint.isBlank();
        }
    }

    /** A value that is given must be positive: a typo must not quietly become the default or no limit. */
    public record Blobs(Long maxSize) {
        public Blobs {
            if (maxSize == null) maxSize = 2L * 1024 * 1024 * 1024;
            if (maxSize <= 0) {
                throw new IllegalArgumentException("aneforge.blobs.max-size (ANEFORGE_BLOBS_MAX_SIZE) must be a positive"
                        + " number of bytes, e.g. 2147483648 (2 GiB); got " + maxSize);
            }
        }
    }

    public record Archive(Integer maxEntries, Long maxUncompressedSize) {
        public Archive {
            if (maxEntries == null) maxEntries = 10_000;
            if (maxUncompressedSize == null) maxUncompressedSize = 8L * 1024 * 1024 * 1024;
            if (maxEntries <= 0) {
                throw new IllegalArgumentException("aneforge.archive.max-entries (ANEFORGE_ARCHIVE_MAX_ENTRIES) must be"
                        + " a positive number of zip entries, e.g. 10000; got " + maxEntries);
            }
            if (maxUncompressedSize <= 0) {
                throw new IllegalArgumentException("aneforge.archive.max-uncompressed-size"
                        + " (ANEFORGE_ARCHIVE_MAX_UNCOMPRESSED_SIZE) must be a positive number of bytes, e.g. 8589934592"
                        + " (8 GiB); got " + maxUncompressedSize);
            }
        }
    }
}

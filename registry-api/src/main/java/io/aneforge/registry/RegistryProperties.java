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
                                 Archive archive, Duration cacheTtl, Boolean resolveFastPath) {

    public RegistryProperties {
        if (dataDir == null) dataDir = Path.of(".aneforge", "data");
        if (s3 == null) s3 = new S3(null, null, null, null, null);
        if (blobs == null) blobs = new Blobs(0);
        if (archive == null) archive = new Archive(0, 0);
        if (cacheTtl == null) cacheTtl = Duration.ofSeconds(5);
        if (resolveFastPath == null) resolveFastPath = Boolean.TRUE;
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

    public record Blobs(long maxSize) {
        public Blobs {
            if (maxSize <= 0) maxSize = 2L * 1024 * 1024 * 1024;
        }
    }

    public record Archive(int maxEntries, long maxUncompressedSize) {
        public Archive {
            if (maxEntries <= 0) maxEntries = 10_000;
            if (maxUncompressedSize <= 0) maxUncompressedSize = 8L * 1024 * 1024 * 1024;
        }
    }
}

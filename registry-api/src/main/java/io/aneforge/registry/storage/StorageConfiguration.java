package io.aneforge.registry.storage;

import io.aneforge.registry.RegistryProperties;
import io.minio.MinioClient;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Connects to S3 at {@code aneforge.s3.endpoint}, or, when it is unset, starts an S3Proxy in this
 * JVM with a filesystem store under {@code aneforge.data-dir}/s3 on a loopback port.
 */
@Configuration
class StorageConfiguration {

    private static final Logger log = LoggerFactory.getLogger(StorageConfiguration.class);

    /** Where S3 is; holds the embedded server, if any, so Spring stops it with the context. */
    static final class S3Endpoint implements AutoCloseable {
        final S3Proxy proxy; // null when an external endpoint is configured
        final String url;
        final String accessKey;
        final String secretKey;

        S3Endpoint(RegistryProperties.S3 s3) {
            proxy = null;
            url = s3.endpoint();
            accessKey = s3.accessKey();
            secretKey = s3.secretKey();
        }

        S3Endpoint(Path dir) throws Exception {
            Files.createDirectories(dir);
            Properties p = new Properties();
            p.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
            accessKey = "aneforge";
            secretKey = "aneforge-embedded";
            proxy = S3Proxy.builder()
                    .blobStore(BlobStores.create("filesystem", p))
                    .endpoint(URI.create("http://127.0.0.1:0"))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                    .build();
            proxy.start();
            for (int i = 0; i < 500 && !"STARTED".equals(proxy.getState()); i++) Thread.sleep(10);
            if (!"STARTED".equals(proxy.getState())) {
                throw new IllegalStateException("embedded S3 server did not start (state " + proxy.getState() + ")");
            }
            url = "http://127.0.0.1:" + proxy.getPort();
        }

        @Override
        public void close() throws Exception {
            if (proxy != null) proxy.stop();
        }
    }

    @Bean(destroyMethod = "close")
    S3Endpoint s3Endpoint(RegistryProperties props) throws Exception {
        if (!props.s3().embedded()) return new S3Endpoint(props.s3());
        Path dir = props.dataDir().resolve("s3");
        S3Endpoint s3 = new S3Endpoint(dir);
        log.info("ANEFORGE_S3_ENDPOINT is not set: started the embedded S3 server at {} storing under {}",
                s3.url, dir.toAbsolutePath());
        return s3;
    }

    @Bean
    BlobStorage blobStorage(RegistryProperties props, S3Endpoint endpoint) {
        MinioClient client = MinioClient.builder()
                .endpoint(endpoint.url)
                .credentials(endpoint.accessKey, endpoint.secretKey)
                .region(props.s3().region())
                .build();
        S3BlobStorage storage = new S3BlobStorage(client, props.s3().bucket());
        storage.ensureBucket();
        return storage;
    }

    @Bean
    HealthIndicator storageHealthIndicator(BlobStorage storage, RegistryProperties props) {
        return () -> {
            try {
                storage.check();
                return Health.up().withDetail("bucket", props.s3().bucket())
                        .withDetail("embedded", props.s3().embedded()).build();
            } catch (RuntimeException ex) {
                return Health.down().withDetail("error", ex.getMessage()).build();
            }
        };
    }
}

package io.aneforge.registry.storage;

import io.aneforge.registry.RegistryProperties;
import io.minio.MinioClient;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
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

    /**
     * An external S3 that does not answer at start (MinIO restarting, a wrong endpoint or key) does not stop the
     * registry: it starts, logs what to check, and stays unready ({@code storage} is in the readiness group)
     * until the bucket can be reached or created. The embedded store is part of this JVM: a failure there is a
     * real start failure.
     */
    @Bean
    BlobStorage blobStorage(RegistryProperties props, S3Endpoint endpoint) {
        MinioClient client = MinioClient.builder()
                .endpoint(endpoint.url)
                .credentials(endpoint.accessKey, endpoint.secretKey)
                .region(props.s3().region())
                .build();
        S3BlobStorage storage = new S3BlobStorage(client, props.s3().bucket());
        if (props.s3().embedded()) {
            storage.ensureBucket();
        } else {
            try {
                storage.ensureBucket();
            } catch (RuntimeException e) {
                log.warn("{} Starting anyway: the registry stays unready until storage answers.",
                        problem(props.s3(), e));
            }
        }
        return storage;
    }

    /** What is wrong with storage, naming the endpoint, the bucket and the settings to check. */
    static String problem(RegistryProperties.S3 s3, RuntimeException e) {
        if (s3.embedded()) {
            return "The embedded S3 store does not answer: " + e.getMessage() + ".";
        }
        return "S3 storage at " + s3.endpoint() + " (ANEFORGE_S3_ENDPOINT), bucket '" + s3.bucket()
                + "' (ANEFORGE_S3_BUCKET), cannot be used: " + e.getMessage() + ". Check that the endpoint answers,"
                + " that ANEFORGE_S3_ACCESS_KEY / ANEFORGE_S3_SECRET_KEY are right, and that the key may read and"
                + " create the bucket.";
    }

    @Bean
    HealthIndicator storageHealthIndicator(BlobStorage storage, RegistryProperties props) {
        // The readiness probe asks every few seconds: log when storage goes away or comes back, not on every probe.
        // A store that did not answer at start was reported then.
        AtomicBoolean up = new AtomicBoolean(!(storage instanceof S3BlobStorage s3) || s3.bucketReady());
        return () -> {
            try {
                storage.check();
                if (!up.getAndSet(true)) {
                    log.info("S3 storage answers again (bucket '{}'): ready", props.s3().bucket());
                }
                return Health.up().withDetail("bucket", props.s3().bucket())
                        .withDetail("embedded", props.s3().embedded()).build();
            } catch (RuntimeException ex) {
                String problem = problem(props.s3(), ex);
                if (up.getAndSet(false)) {
                    log.warn("{} The registry is unready until it answers.", problem);
                }
                return Health.down().withDetail("error", problem).build();
            }
        };
    }
}

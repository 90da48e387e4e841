package io.aneforge.registry.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryProperties;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * An external S3 that does not answer at start leaves the registry starting and unready, with a message naming the
 * endpoint and the settings; once S3 answers the readiness check creates the bucket and reports UP, no restart.
 */
class StorageStartTest {

    @Test
    void anUnreachableEndpointStartsUnreadyNamingItThenTurnsReadyWhenS3Answers(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;
        RegistryProperties props = new Binder(new MapConfigurationPropertySource(Map.of(
                "aneforge.s3.endpoint", endpoint, "aneforge.s3.access-key", "key", "aneforge.s3.secret-key", "secret",
                "aneforge.s3.bucket", "late-bucket"))).bindOrCreate("aneforge", RegistryProperties.class);
        StorageConfiguration configuration = new StorageConfiguration();

        // Before the fix this threw (the registry refused to start).
        BlobStorage storage = configuration.blobStorage(props, configuration.s3Endpoint(props));
        HealthIndicator health = configuration.storageHealthIndicator(storage, props);

        Health down = health.health(true);
        assertThat(down.getStatus()).isEqualTo(Status.DOWN);
        assertThat(String.valueOf(down.getDetails().get("error")))
                .contains(endpoint, "ANEFORGE_S3_ENDPOINT", "ANEFORGE_S3_ACCESS_KEY", "'late-bucket'");

        Properties p = new Properties();
        p.setProperty("jclouds.filesystem.basedir", dir.toString());
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(BlobStores.create("filesystem", p))
                .endpoint(URI.create(endpoint))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "key", "secret")
                .build();
        proxy.start();
        try {
            for (int i = 0; i < 500 && !"STARTED".equals(proxy.getState()); i++) Thread.sleep(10);
            assertThat(health.health(true).getStatus()).isEqualTo(Status.UP);
            assertThat(dir.resolve("late-bucket")).as("bucket created once S3 answered").isDirectory();
        } finally {
            proxy.stop();
        }
    }
}

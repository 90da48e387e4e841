package io.aneforge.testsupport.s3;

import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import java.net.URI;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;

/**
 * A real S3 server (S3Proxy, in-memory store) on a loopback port, for tests that need S3 without
 * Docker. {@code try (InProcessS3 s3 = InProcessS3.start()) { s3.client()... }}
 */
public final class InProcessS3 implements AutoCloseable {

    public static final String ACCESS_KEY = "test-access";
    public static final String SECRET_KEY = "test-secret-key";
    public static final String REGION = "us-east-1";

    private final S3Proxy proxy;
    private final String endpoint;

    private InProcessS3(S3Proxy proxy) {
        this.proxy = proxy;
        this.endpoint = "http://127.0.0.1:" + proxy.getPort();
    }

    public static InProcessS3 start() {
        try {
            S3Proxy proxy = S3Proxy.builder()
                    .blobStore(BlobStores.create("transient", new Properties()))
                    .endpoint(URI.create("http://127.0.0.1:0"))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                    .build();
            proxy.start();
            for (int i = 0; i < 500 && !"STARTED".equals(proxy.getState()); i++) Thread.sleep(10);
            if (!"STARTED".equals(proxy.getState())) throw new IllegalStateException("S3Proxy state " + proxy.getState());
            return new InProcessS3(proxy);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the in-process S3 server: " + e.getMessage(), e);
        }
    }

    /** e.g. {@code http://127.0.0.1:41234} */
    public String endpoint() {
        return endpoint;
    }

    public MinioClient client() {
        return MinioClient.builder().endpoint(endpoint).credentials(ACCESS_KEY, SECRET_KEY).region(REGION).build();
    }

    /** Creates a bucket and returns its name. */
    public String createBucket(String name) {
        try {
            client().makeBucket(MakeBucketArgs.builder().bucket(name).build());
            return name;
        } catch (Exception e) {
            throw new IllegalStateException("cannot create bucket " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop the in-process S3 server", e);
        }
    }
}

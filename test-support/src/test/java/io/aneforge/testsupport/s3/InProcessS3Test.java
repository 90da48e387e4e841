package io.aneforge.testsupport.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.minio.GetObjectArgs;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class InProcessS3Test {

    @Test
    void storesAndReadsBackAnObject() throws Exception {
        try (InProcessS3 s3 = InProcessS3.start()) {
            String bucket = s3.createBucket("test-bucket");
            byte[] data = "hello s3".getBytes(StandardCharsets.UTF_8);
            s3.client().putObject(PutObjectArgs.builder().bucket(bucket).object("a/b")
                    .stream(new ByteArrayInputStream(data), (long) data.length, null).build());
            try (InputStream in = s3.client().getObject(GetObjectArgs.builder().bucket(bucket).object("a/b").offset(6L).build())) {
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("s3");
            }
        }
    }
}

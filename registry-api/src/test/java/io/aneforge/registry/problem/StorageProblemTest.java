package io.aneforge.registry.problem;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.storage.StorageException;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;

/** The object store failing is the registry's dependency failing: a 503 with Retry-After, never the client's 4xx or a bare 500. */
class StorageProblemTest {

    @Test
    void aStorageFailureIsA503TheClientMayRetry() {
        ResponseEntity<ProblemDetail> r = new ProblemAdvice().storage(
                new StorageException("get blobs/sha256/ab: connection refused", new IOException("refused")));
        assertThat(r.getStatusCode().value()).isEqualTo(503);
        assertThat(r.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("30");
        assertThat(r.getBody().getType().toString()).endsWith("/storage-unavailable");
        assertThat(r.getBody().getDetail()).contains("retry later").doesNotContain("connection refused");
    }
}

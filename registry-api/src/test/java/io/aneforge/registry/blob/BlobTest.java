package io.aneforge.registry.blob;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import io.aneforge.registry.storage.BlobStorage;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

class BlobTest extends RegistryTestBase {

    @Autowired
    BlobStorage storage;

    @Autowired
    JdbcClient jdbc;

    /** What {@code curl --data-binary} sends when no Content-Type is given. */
    private static final String FORM = "application/x-www-form-urlencoded";

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void uploadIsVerifiedAndIdempotent() {
        byte[] data = random(300_000, 1);
        String hex = sha256(data);
        Response first = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), data);
        assertThat(first.status()).as(first.text()).isEqualTo(201);
        assertThat(first.json().path("size").asLong()).isEqualTo(300_000);
        Response again = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), data);
        assertThat(again.status()).isEqualTo(200);
        assertThat(storage.exists("blobs/sha256/" + hex)).isTrue();

        Response got = get("/api/v1/blobs/sha256:" + hex, reader());
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(data);
        assertThat(got.header("ETag")).isEqualTo("\"sha256:" + hex + "\"");
        // private: the download needs a token, so no shared cache may store it for others (RFC 9111 §3.5)
        assertThat(got.header("Cache-Control")).isEqualTo("private, max-age=31536000, immutable");
        assertThat(got.header("Accept-Ranges")).isEqualTo("bytes");

        Response head = send("HEAD", "/api/v1/blobs/sha256:" + hex, reader(), null);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Length")).isEqualTo("300000");
        assertThat(head.body()).isEmpty();

        Response notModified = get("/api/v1/blobs/sha256:" + hex, reader(), "If-None-Match", "\"sha256:" + hex + "\"");
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.header("ETag")).isEqualTo("\"sha256:" + hex + "\"");
        assertThat(notModified.header("Cache-Control")).isEqualTo("private, max-age=31536000, immutable");
    }

    @Test
    void reuploadingAnExistingDigestReadsTheWholeBodyAndKeepsTheConnectionUsable() throws Exception {
        byte[] data = random(900_000, 7);
        String hex = sha256(data);
        assertThat(send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), data).status()).isEqualTo(201);
        // As the CLI sends it: a file body on one client. Answering before the body was read made Tomcat close the
        // connection mid-upload and the JDK client fail ("chunked transfer encoding, state: READING_LENGTH").
        java.nio.file.Path file = java.nio.file.Files.createTempFile("blob", ".bin");
        try {
            java.nio.file.Files.write(file, data);
            java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
            for (int i = 0; i < 5; i++) {
                var r = client.send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create("http://127.0.0.1:" + port + "/api/v1/blobs/sha256:" + hex))
                        .header("Authorization", "Bearer " + publisher()).header("Content-Type", "application/zip")
                        .PUT(java.net.http.HttpRequest.BodyPublishers.ofFile(file)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(r.headers().firstValue("Connection")).as("attempt " + i).isNotEqualTo(java.util.Optional.of("close"));
            }
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void aDifferentBodyForAnExistingDigestIsStillADigestMismatch() {
        byte[] data = "stored first".getBytes(StandardCharsets.UTF_8);
        String hex = sha256(data);
        assertThat(send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), data).status()).isEqualTo(201);
        byte[] other = "not the same bytes".getBytes(StandardCharsets.UTF_8);
        Response r = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), other);
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("digest-mismatch");
        assertThat(r.json().path("actual").asString()).isEqualTo("sha256:" + sha256(other));
        assertThat(get("/api/v1/blobs/sha256:" + hex, reader()).body()).isEqualTo(data);

        byte[] big = random((int) MAX_BLOB + 4096, 8);
        Response tooBig = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), big);
        assertThat(tooBig.status()).isEqualTo(413);
        assertThat(tooBig.problem()).isEqualTo("blob-too-large");
    }

    @Test
    void digestMismatchLeavesNothingVisible() {
        byte[] data = "the real content".getBytes(StandardCharsets.UTF_8);
        String claimed = sha256("something else".getBytes(StandardCharsets.UTF_8));
        Response r = send("PUT", "/api/v1/blobs/sha256:" + claimed, publisher(), data);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("digest-mismatch");
        assertThat(r.json().path("actual").asString()).isEqualTo("sha256:" + sha256(data));
        assertThat(get("/api/v1/blobs/sha256:" + claimed, reader()).status()).isEqualTo(404);
        assertThat(send("HEAD", "/api/v1/blobs/sha256:" + claimed, reader(), null).status()).isEqualTo(404);
        assertThat(storage.exists("blobs/sha256/" + claimed)).isFalse();
        assertThat(storage.exists("blobs/sha256/" + sha256(data))).isFalse();
    }

    @Test
    void oversizedUploadIsRefusedAndNotStored() {
        byte[] data = random((int) MAX_BLOB + 4096, 2);
        String hex = sha256(data);
        Response r = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), data);
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.problem()).isEqualTo("blob-too-large");
        assertThat(get("/api/v1/blobs/sha256:" + hex, reader()).status()).isEqualTo(404);
        assertThat(storage.exists("blobs/sha256/" + hex)).isFalse();
    }

    @Test
    void oversizedChunkedUploadIsCutOffWhileStreaming() throws Exception {
        byte[] data = random((int) MAX_BLOB * 2, 4);
        String hex = sha256(data);
        // No Content-Length: the limit can only be enforced while the body streams in.
        java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/api/v1/blobs/sha256:" + hex))
                .header("Authorization", "Bearer " + publisher())
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(data)))
                .build();
        int status;
        try {
            status = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (java.io.IOException closedWhileSending) {
            status = 413; // the server may answer and close before the client finishes sending
        }
        assertThat(status).isEqualTo(413);
        assertThat(get("/api/v1/blobs/sha256:" + hex, reader()).status()).isEqualTo(404);
        assertThat(storage.exists("blobs/sha256/" + hex)).isFalse();
    }

    @Test
    void rangeRequestsServeSlices() {
        byte[] data = random(100_000, 3);
        String digest = upload(data);
        String path = "/api/v1/blobs/" + digest;

        Response mid = get(path, reader(), "Range", "bytes=1000-1999");
        assertThat(mid.status()).isEqualTo(206);
        assertThat(mid.header("Content-Range")).isEqualTo("bytes 1000-1999/100000");
        assertThat(mid.body()).isEqualTo(Arrays.copyOfRange(data, 1000, 2000));
        assertThat(mid.header("Cache-Control")).isEqualTo("private, max-age=31536000, immutable");

        Response open = get(path, reader(), "Range", "bytes=99990-");
        assertThat(open.body()).isEqualTo(Arrays.copyOfRange(data, 99990, 100000));

        Response suffix = get(path, reader(), "Range", "bytes=-10");
        assertThat(suffix.status()).isEqualTo(206);
        assertThat(suffix.body()).isEqualTo(Arrays.copyOfRange(data, 99990, 100000));

        Response beyond = get(path, reader(), "Range", "bytes=200000-");
        assertThat(beyond.status()).isEqualTo(416);
        assertThat(beyond.header("Content-Range")).isEqualTo("bytes */100000");
        // An error is not the blob: no validator, no year-long caching.
        assertThat(beyond.header("ETag")).isNull();
        assertThat(String.valueOf(beyond.header("Cache-Control"))).doesNotContain("max-age=31536000").doesNotContain("public");
    }

    @Test
    void aBodySentAsFormContentIsStoredAsRawBytes() {
        // Bytes a form parser would mangle: '&', '=', '+', '%' and non-ASCII.
        byte[] data = "a=1&b=%20+x\u00e9&=&&c".getBytes(StandardCharsets.UTF_8);
        byte[] large = random(200_000, 5);
        for (byte[] body : new byte[][] {data, large}) {
            String hex = sha256(body);
            Response put = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), body, "Content-Type", FORM);
            assertThat(put.status()).as(put.text()).isEqualTo(201);
            assertThat(put.json().path("size").asLong()).isEqualTo(body.length);
            assertThat(put.json().path("mediaType").asString()).isEqualTo("application/octet-stream");
            Response got = get("/api/v1/blobs/sha256:" + hex, reader());
            assertThat(got.status()).isEqualTo(200);
            assertThat(got.body()).isEqualTo(body);
        }
    }

    @Test
    void aWrongDigestSentAsFormContentIsADigestMismatch() {
        byte[] data = "k=v&the real content".getBytes(StandardCharsets.UTF_8);
        String claimed = sha256("something else".getBytes(StandardCharsets.UTF_8));
        Response r = send("PUT", "/api/v1/blobs/sha256:" + claimed, publisher(), data, "Content-Type", FORM);
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("digest-mismatch");
        assertThat(r.json().path("actual").asString()).isEqualTo("sha256:" + sha256(data));
        assertThat(get("/api/v1/blobs/sha256:" + claimed, reader()).status()).isEqualTo(404);
        assertThat(storage.exists("blobs/sha256/" + claimed)).isFalse();
        assertThat(storage.exists("blobs/sha256/" + sha256(data))).isFalse();
    }

    @Test
    void blobsAreServedWithAnExpectedTypeAndNosniff() {
        byte[] page = "<html><script>alert(document.cookie)</script></html>".getBytes(StandardCharsets.UTF_8);
        String hex = sha256(page);
        Response put = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), page, "Content-Type", "text/html");
        assertThat(put.status()).as(put.text()).isEqualTo(201);
        assertThat(put.json().path("mediaType").asString()).isEqualTo("application/octet-stream");
        Response got = get("/api/v1/blobs/sha256:" + hex, reader());
        assertThat(got.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(got.header("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(got.body()).isEqualTo(page);

        // A row stored before uploads were checked still carries the uploader's type: it is not served.
        jdbc.sql("UPDATE blob SET media_type = 'text/html; charset=utf-8' WHERE digest = ?").param(hex).update();
        Response legacy = get("/api/v1/blobs/sha256:" + hex, reader());
        assertThat(legacy.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(legacy.header("X-Content-Type-Options")).isEqualTo("nosniff");
        Response head = send("HEAD", "/api/v1/blobs/sha256:" + hex, reader(), null);
        assertThat(head.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(head.header("X-Content-Type-Options")).isEqualTo("nosniff");

        // The types the registry's own clients send are kept (parameters dropped, case folded).
        byte[] zip = mlpackage("served-type");
        Response zipPut = send("PUT", "/api/v1/blobs/sha256:" + sha256(zip), publisher(), zip, "Content-Type", "Application/ZIP; x=1");
        assertThat(zipPut.json().path("mediaType").asString()).isEqualTo("application/zip");
        Response zipGot = get("/api/v1/blobs/sha256:" + sha256(zip), reader());
        assertThat(zipGot.header("Content-Type")).isEqualTo("application/zip");
        assertThat(zipGot.header("X-Content-Type-Options")).isEqualTo("nosniff");
        byte[] golden = random(1000, 6);
        Response goldenPut = send("PUT", "/api/v1/blobs/sha256:" + sha256(golden), publisher(), golden,
                "Content-Type", "application/vnd.aneforge.golden-outputs");
        assertThat(goldenPut.json().path("mediaType").asString()).isEqualTo("application/vnd.aneforge.golden-outputs");
        assertThat(get("/api/v1/blobs/sha256:" + sha256(golden), reader()).header("Content-Type"))
                .isEqualTo("application/vnd.aneforge.golden-outputs");
    }

    @Test
    void malformedDigestIsRefused() {
        Response r = send("PUT", "/api/v1/blobs/sha256:ABC", publisher(), new byte[] {1});
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("invalid-digest");
    }
}

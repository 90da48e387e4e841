package io.aneforge.registry.download;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/** resolve?signed=true mints a URL that downloads exactly that blob without a token, until it expires (real HTTP). */
class SignedDownloadTest extends RegistryTestBase {

    private static final String M = "signed-download";
    private static boolean seeded;
    private static String otherDigest;

    @Autowired
    DownloadSigner signer;

    @BeforeEach
    void seed() {
        if (seeded) return;
        inProduction(M, "signed URL tests", "A17_PRO 17.0 ane fp16");
        otherDigest = upload(mlpackage("another blob"));
        seeded = true;
    }

    private JsonNode signedAnswer() {
        Response r = get("/api/v1/models/" + M + "/resolve?chip=A17_PRO&os=18.0&signed=true", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.header("Cache-Control")).isEqualTo("no-store");
        return r.json();
    }

    @Test
    void theSignedUrlDownloadsTheBlobWithoutATokenRangesIncluded() {
        Instant before = Instant.now();
        JsonNode a = signedAnswer();
        String url = a.path("url").asString();
        String downloadUrl = a.path("downloadUrl").asString();
        assertThat(downloadUrl).startsWith(url + "?expires=").contains("&signature=");
        Instant expiresAt = Instant.parse(a.path("downloadUrlExpiresAt").asString());
        assertThat(expiresAt).isBetween(before.plus(Duration.ofMinutes(15)).minusSeconds(1),
                Instant.now().plus(Duration.ofMinutes(15)));
        assertThat(downloadUrl).contains("expires=" + expiresAt.getEpochSecond() + "&");

        Response blob = get(downloadUrl, null);
        assertThat(blob.status()).as(blob.text()).isEqualTo(200);
        assertThat("sha256:" + sha256(blob.body())).isEqualTo(a.path("digest").asString());
        Response range = get(downloadUrl, null, "Range", "bytes=0-9");
        assertThat(range.status()).isEqualTo(206);
        assertThat(range.body()).isEqualTo(Arrays.copyOf(blob.body(), 10));
        assertThat(range.header("Content-Range")).isEqualTo("bytes 0-9/" + blob.body().length);
        assertThat(send("HEAD", downloadUrl, null, null).status()).isEqualTo(200);

        // Without signed=true the answer is the usual one, without a downloadUrl.
        Response plain = get("/api/v1/models/" + M + "/resolve?chip=A17_PRO&os=18.0", reader());
        assertThat(plain.json().has("downloadUrl")).as(plain.text()).isFalse();
        assertThat(get("/api/v1/models/" + M + "/resolve?chip=A17_PRO&os=18.0&signed=false", reader()).text())
                .isEqualTo(plain.text());
    }

    /** Apps parse the signed answer like the plain one: the same bytes, field for field, with the two URL fields last. */
    @Test
    void theSignedAnswerIsThePlainOneWithTheUrlFieldsAppended() {
        String plain = get("/api/v1/models/" + M + "/resolve?chip=A17_PRO&os=18.0", reader()).text();
        Response r = get("/api/v1/models/" + M + "/resolve?chip=A17_PRO&os=18.0&signed=true", reader());
        JsonNode a = r.json();
        assertThat(plain).endsWith("}").contains("\"blockSize\":null"); // an fp16 variant: the nulls are written too
        assertThat(r.text()).isEqualTo(plain.substring(0, plain.length() - 1)
                + ",\"downloadUrl\":\"" + a.path("downloadUrl").asString()
                + "\",\"downloadUrlExpiresAt\":\"" + a.path("downloadUrlExpiresAt").asString() + "\"}");
    }

    @Test
    void anAlteredUrlIsRefusedAndSaysToRequestANewOne() {
        String downloadUrl = signedAnswer().path("downloadUrl").asString();
        String path = downloadUrl.substring(0, downloadUrl.indexOf('?'));
        String expires = downloadUrl.replaceAll(".*expires=(\\d+).*", "$1");
        String signature = downloadUrl.replaceAll(".*signature=", "");
        char last = signature.charAt(signature.length() - 2);
        String flipped = signature.substring(0, signature.length() - 2) + (last == 'A' ? 'B' : 'A') + signature.charAt(signature.length() - 1);
        for (String altered : new String[] {
                path + "?expires=" + expires + "&signature=" + flipped,                        // tampered signature
                path + "?expires=" + (Long.parseLong(expires) + 3600) + "&signature=" + signature, // a later expiry
                "/api/v1/blobs/" + otherDigest + "?expires=" + expires + "&signature=" + signature, // another blob
                path + "?expires=" + expires,                                                   // no signature
                path + "?expires=soon&signature=" + signature}) {
            Response r = get(altered, null);
            assertThat(r.status()).as(altered + ": " + r.text()).isEqualTo(403);
            assertThat(r.problem()).isEqualTo("download-url-invalid");
            assertThat(r.json().path("detail").asString()).contains("request a new URL with GET /api/v1/models/{name}/resolve?")
                    .contains("signed=true");
        }
    }

    @Test
    void anExpiredUrlIsRefusedAsExpired() {
        String hex = signedAnswer().path("digest").asString().substring("sha256:".length());
        DownloadSigner.Signed old = signer.sign(hex, Instant.now().minus(Duration.ofMinutes(16)));
        Response r = get("/api/v1/blobs/sha256:" + hex + "?" + old.query(), null);
        assertThat(r.status()).as(r.text()).isEqualTo(403);
        assertThat(r.problem()).isEqualTo("download-url-expired");
        assertThat(r.json().path("detail").asString()).startsWith("the download URL expired at " + old.expiresAt())
                .contains("request a new one");
        assertThat(r.json().path("expiredAt").asString()).isEqualTo(old.expiresAt().toString());
        // The same blob, signed now, downloads.
        assertThat(get("/api/v1/blobs/sha256:" + hex + "?" + signer.sign(hex, Instant.now()).query(), null).status()).isEqualTo(200);
    }

    /** The URL stands in for a token on the blob download only. */
    @Test
    void aSignatureGrantsNothingElse() {
        String hex = signedAnswer().path("digest").asString().substring("sha256:".length());
        String query = signer.sign(hex, Instant.now()).query();
        assertThat(get("/api/v1/models/" + M + "/resolve?chip=A17_PRO&os=18.0&" + query, null).problem()).isEqualTo("unauthenticated");
        assertThat(get("/api/v1/models/" + M + "?" + query, null).status()).isEqualTo(401);
        Response put = send("PUT", "/api/v1/blobs/sha256:" + hex + "?" + query, null, new byte[] {1});
        assertThat(put.status()).as(put.text()).isEqualTo(401);
    }

    @Test
    void signedTakesTrueOrFalse() {
        Response r = get("/api/v1/models/" + M + "/resolve?chip=A17_PRO&os=18.0&signed=yes", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("invalid-parameter");
        assertThat(r.json().path("parameter").asString()).isEqualTo("signed");
        assertThat(r.json().path("allowed").toString()).isEqualTo("[\"true\",\"false\"]");
    }
}

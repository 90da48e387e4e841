package io.aneforge.agent.cache;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Downloads an artifact from its {@link ArtifactRef#downloadUrl()} with an optional bearer token. */
public final class HttpArtifactSource implements ArtifactSource {

    private final HttpClient http;
    private final String bearerToken;
    private final Duration timeout;

    public HttpArtifactSource(String bearerToken, Duration timeout) {
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL) // presigned S3 URLs arrive as redirects
                .connectTimeout(timeout)
                .build();
        this.bearerToken = bearerToken;
        this.timeout = timeout;
    }

    @Override
    public InputStream open(ArtifactRef ref) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(ref.downloadUrl()).timeout(timeout).GET();
        if (bearerToken != null && !bearerToken.isBlank()) {
            request.header("Authorization", "Bearer " + bearerToken);
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading " + ref.digest() + " from " + ref.downloadUrl(), e);
        }
        if (response.statusCode() != 200) {
            response.body().close();
            throw new IOException("download of " + ref.digest() + " from " + ref.downloadUrl()
                    + " answered HTTP " + response.statusCode() + "; expected 200"
                    + (response.statusCode() == 401 || response.statusCode() == 403
                            ? " (check aneforge.agent.token)" : ""));
        }
        return response.body();
    }
}

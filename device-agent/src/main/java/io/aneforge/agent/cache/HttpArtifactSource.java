package io.aneforge.agent.cache;

import io.aneforge.io.BodyTimeout;
import io.aneforge.io.IdleTimeoutInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;

/**
 * Downloads an artifact from its {@link ArtifactRef#downloadUrl()}. The bearer token is sent
 * only to the registry's own origin (scheme, host, port): download URLs may redirect to a
 * presigned S3 URL, which must not receive the token (S3 would also refuse a request that
 * carries two authentication mechanisms). Redirects are therefore followed here, up to
 * {@value #MAX_REDIRECTS}, rather than by the HTTP client.
 *
 * <p>The timeout bounds the connect, the wait for the response headers and, through
 * {@link IdleTimeoutInputStream}, each wait for body bytes: a server that stalls mid-body fails
 * the download (the request timeout alone would not cover the body). After the first {@code timeout}
 * of the body it must also average at least {@code minBytesPerSecond} ({@link BodyTimeout#download}),
 * so a server that trickles a byte now and then cannot hold a job for ever. A status other than 200
 * throws {@link DownloadStatusException}, which says whose fault it is.
 */
public final class HttpArtifactSource implements ArtifactSource {

    static final int MAX_REDIRECTS = 5;
    /** The slowest download accepted when none is configured: 64 KiB/s (a 1 GB artifact may take 4.5 h at it). */
    public static final long DEFAULT_MIN_BYTES_PER_SECOND = 64 << 10;

    private final HttpClient http;
    private final URI registryOrigin;
    private final String bearerToken;
    private final Duration timeout;
    private final BodyTimeout body;

    /** With the default minimum throughput ({@value #DEFAULT_MIN_BYTES_PER_SECOND} bytes/s). */
    public HttpArtifactSource(URI registryUrl, String bearerToken, Duration timeout) {
        this(registryUrl, bearerToken, timeout, DEFAULT_MIN_BYTES_PER_SECOND);
    }

    /**
     * @param registryUrl the registry's base URL; the token goes only to this origin
     * @param bearerToken agent token, or null/blank for none
     * @param timeout connect timeout, wait for the response headers, longest wait for body bytes, and the grace
     *     period before the minimum throughput applies
     * @param minBytesPerSecond the slowest average a body may have after its first {@code timeout}
     */
    public HttpArtifactSource(URI registryUrl, String bearerToken, Duration timeout, long minBytesPerSecond) {
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(timeout).build();
        this.registryOrigin = Objects.requireNonNull(registryUrl, "registryUrl");
        this.bearerToken = bearerToken;
        this.timeout = timeout;
        this.body = BodyTimeout.download(timeout, minBytesPerSecond);
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() != -1) {
            return u.getPort();
        }
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    @Override
    public InputStream open(ArtifactRef ref) throws IOException {
        URI url = ref.downloadUrl();
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout).GET();
            if (bearerToken != null && !bearerToken.isBlank() && sameOrigin(url, registryOrigin)) {
                request.header("Authorization", "Bearer " + bearerToken);
            }
            HttpResponse<InputStream> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while downloading " + ref.digest() + " from " + url, e);
            }
            int status = response.statusCode();
            if (status == 200) {
                return IdleTimeoutInputStream.wrap(response.body(), body, url);
            }
            response.body().close();
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                String location = response.headers().firstValue("Location").orElseThrow(() -> new IOException(
                        "download of " + ref.digest() + " from " + ref.downloadUrl() + " redirected (HTTP " + status
                                + ") without a Location header"));
                url = url.resolve(location);
                continue;
            }
            throw new DownloadStatusException("download of " + ref.digest() + " from " + url + " answered HTTP " + status
                    + "; expected 200" + (status == 401 || status == 403
                            ? " (check aneforge.agent.registry.token / ANEFORGE_AGENT_REGISTRY_TOKEN)" : ""), status);
        }
        throw new IOException("download of " + ref.digest() + " from " + ref.downloadUrl() + " redirected more than "
                + MAX_REDIRECTS + " times");
    }
}

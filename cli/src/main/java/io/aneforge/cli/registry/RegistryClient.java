package io.aneforge.cli.registry;

import io.aneforge.cli.CommandFailure;
import io.aneforge.cli.UsageException;
import io.aneforge.io.BodyTimeout;
import io.aneforge.io.IdleTimeoutInputStream;
import io.aneforge.io.IoProblems;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The registry's REST API ({@code /api/v1}, bearer token, problem+json errors) as the command line
 * uses it. Every non-2xx answer becomes a {@link RegistryException} carrying the problem's slug and
 * detail, which already says what to do.
 */
public final class RegistryClient {

    public static final String URL_ENV = "ANEFORGE_REGISTRY_URL";
    public static final String TOKEN_ENV = "ANEFORGE_TOKEN";
    public static final String DEFAULT_URL = "http://localhost:8080";
    /**
     * Seconds (default {@value #DEFAULT_TIMEOUT_SECONDS}) T: an answer's headers must arrive within T, no part of a
     * body may take longer than T, an API answer's whole body must arrive within T of its headers, and a download
     * must average at least {@value #DOWNLOAD_MIN_BYTES_PER_SECOND} bytes/s after its first T (see {@link BodyTimeout}).
     */
    public static final String TIMEOUT_ENV = "ANEFORGE_REGISTRY_TIMEOUT";
    public static final int DEFAULT_TIMEOUT_SECONDS = 30;
    /**
     * The slowest download pull accepts (16 KiB/s, a 128 kbit/s link): a 100 MB archive may take up to 1.7 h at
     * it; a server trickling below it is cut off instead of holding the pull forever.
     */
    public static final long DOWNLOAD_MIN_BYTES_PER_SECOND = 16 << 10;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final URI base;
    private final String token;
    private final HttpClient http;
    private final Duration timeout;

    public RegistryClient(URI base, String token) {
        this(base, token, Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS));
    }

    /**
     * @param timeout how long to wait for the headers of an answer, then for each part of its body; also the
     *                deadline for a whole API answer and the grace period of a download's minimum throughput
     *                (the JDK's request timeout ends with the headers; bodies are read with {@link BodyTimeout})
     */
    public RegistryClient(URI base, String token, Duration timeout) {
        this.base = base;
        this.token = token;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    /** From {@code ANEFORGE_REGISTRY_URL} (default {@value #DEFAULT_URL}) and {@code ANEFORGE_TOKEN}. */
    public static RegistryClient fromEnvironment(Map<String, String> env) {
        String url = env.getOrDefault(URL_ENV, DEFAULT_URL);
        URI uri;
        try {
            uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        } catch (IllegalArgumentException e) {
            throw new UsageException(URL_ENV + " '" + url + "' is not a URL: set it like " + DEFAULT_URL);
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new UsageException(URL_ENV + " '" + url + "' must be an http(s) URL like " + DEFAULT_URL);
        }
        if (uri.isOpaque() || uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new UsageException(URL_ENV + " '" + url + "' names no host: set it to http(s)://host:port, like " + DEFAULT_URL);
        }
        String token = env.get(TOKEN_ENV);
        if (token == null || token.isBlank()) {
            throw new UsageException(TOKEN_ENV + " is not set: export ANEFORGE_TOKEN=<registry token> "
                    + "(an admin mints one with POST /api/v1/tokens)");
        }
        if (token.strip().chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            // Never print the token: say what is wrong with it.
            throw new UsageException(TOKEN_ENV + " holds a line break or another control character: set it to the token "
                    + "alone, on one line (e.g. export ANEFORGE_TOKEN=\"$(tr -d '\\r\\n' < token.txt)\")");
        }
        String seconds = env.getOrDefault(TIMEOUT_ENV, String.valueOf(DEFAULT_TIMEOUT_SECONDS)).strip();
        if (!seconds.matches("[1-9][0-9]{0,5}")) {
            throw new UsageException(TIMEOUT_ENV + " '" + seconds + "' is not a number of seconds: set it like "
                    + DEFAULT_TIMEOUT_SECONDS + " or unset it");
        }
        return new RegistryClient(uri, token.trim(), Duration.ofSeconds(Integer.parseInt(seconds)));
    }

    public URI base() {
        return base;
    }

    public static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    public JsonNode get(String path) {
        return json(send(request(path).GET().build(), path));
    }

    /** GET that maps a 404 to empty (for optional resources such as a version's conversion). */
    public Optional<JsonNode> find(String path) {
        try {
            return Optional.of(get(path));
        } catch (RegistryException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    public JsonNode post(String path, Object body) {
        return json(send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(), path));
    }

    public JsonNode put(String path, Object body) {
        return json(send(request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(), path));
    }

    public JsonNode patch(String path, Object body) {
        return json(send(request(path).header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(), path));
    }

    /** DELETE; the registry answers most with 204 and no body (then an empty object). */
    public JsonNode delete(String path) {
        return json(send(request(path).DELETE().build(), path));
    }

    /** Whether the registry already holds the verified blob {@code sha256:<hex>} ({@code HEAD}, no body sent). */
    public boolean blobExists(String hex) {
        String path = "/api/v1/blobs/sha256:" + hex;
        try {
            send(request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), path);
            return true;
        } catch (RegistryException e) {
            if (e.status() == 404) {
                return false;
            }
            throw e;
        }
    }

    /** Uploads a file as the blob {@code sha256:<hex>}; the registry hashes it while storing and refuses a mismatch. */
    public JsonNode putBlob(String hex, Path file) {
        return putBlob(hex, file, "application/zip");
    }

    /** Uploads {@code file} as blob {@code hex} with {@code mediaType} (one the registry's blob allow-list has). */
    public JsonNode putBlob(String hex, Path file, String mediaType) {
        String path = "/api/v1/blobs/sha256:" + hex;
        try {
            return json(send(request(path).header("Content-Type", mediaType)
                    .PUT(HttpRequest.BodyPublishers.ofFile(file)).build(), path));
        } catch (java.io.FileNotFoundException e) {
            throw new CommandFailure("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Streams {@code url} (absolute, or path-absolute on this registry) into {@code file} and returns
     * the sha256 (hex) of what arrived.
     */
    public String download(String url, Path file) {
        URI uri = url.startsWith("/") ? URI.create(base + url) : URI.create(url);
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).header("Authorization", "Bearer " + token).GET().build();
        HttpResponse<InputStream> resp = call(req, uri.toString(), HttpResponse.BodyHandlers.ofInputStream());
        MessageDigest sha = sha256();
        try (InputStream in = IdleTimeoutInputStream.wrap(resp.body(),
                BodyTimeout.download(timeout, DOWNLOAD_MIN_BYTES_PER_SECOND), uri)) {
            if (resp.statusCode() / 100 != 2) {
                throw RegistryException.of(resp.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8), uri.getPath());
            }
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha)) {
                in.transferTo(out);
            }
        } catch (HttpTimeoutException e) {
            throw new CommandFailure("download of " + uri + " stalled: " + e.getMessage() + ": check the registry at "
                    + base + " and its blob store, then run pull again", e);
        } catch (IOException e) {
            throw new CommandFailure("download of " + uri + " failed: " + e.getMessage() + " (run pull again)", e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                .header("Authorization", "Bearer " + token).header("Accept", "application/json, application/problem+json");
    }

    private HttpResponse<String> send(HttpRequest req, String path) {
        HttpResponse<InputStream> raw = call(req, req.method() + " " + path, HttpResponse.BodyHandlers.ofInputStream());
        String body;
        try {
            body = new String(IdleTimeoutInputStream.readAll(raw.body(), BodyTimeout.answer(timeout), base + path),
                    StandardCharsets.UTF_8);
        } catch (HttpTimeoutException e) {
            throw new CommandFailure("the registry did not finish its answer to " + req.method() + " " + path + " ("
                    + e.getMessage() + "): check the registry at " + base + " (or raise " + TIMEOUT_ENV
                    + "), then retry", e);
        } catch (IOException e) {
            throw new CommandFailure("reading the registry's answer to " + req.method() + " " + path + " failed: "
                    + IoProblems.describe(e) + ": check the registry at " + base + ", then retry", e);
        }
        if (raw.statusCode() / 100 != 2) {
            throw RegistryException.of(raw.statusCode(), body, req.method() + " " + path);
        }
        return new StringResponse(raw, body);
    }

    private <T> HttpResponse<T> call(HttpRequest req, String what, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(req, handler);
        } catch (ConnectException e) {
            throw new CommandFailure("cannot reach the registry at " + base + ": start it or set " + URL_ENV, e);
        } catch (HttpTimeoutException e) {
            throw new CommandFailure("the registry at " + base + " did not answer " + what + " within "
                    + timeout.toSeconds() + " s: check the registry at " + base + " (or raise " + TIMEOUT_ENV + "), then retry", e);
        } catch (IOException e) {
            throw new CommandFailure("request " + what + " to " + base + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure("interrupted during " + what, e);
        }
    }

    private static JsonNode json(HttpResponse<String> resp) {
        String body = resp.body();
        if (body == null || body.isBlank()) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(body);
        } catch (JacksonException e) {
            throw new CommandFailure("the registry answered " + resp.statusCode() + " with a body that is not JSON: "
                    + body.substring(0, Math.min(200, body.length())));
        }
    }

    /** A response whose body was read within the answer's {@link BodyTimeout}. */
    private record StringResponse(HttpResponse<InputStream> raw, String body) implements HttpResponse<String> {
        @Override public int statusCode() { return raw.statusCode(); }
        @Override public HttpRequest request() { return raw.request(); }
        @Override public Optional<HttpResponse<String>> previousResponse() { return Optional.empty(); }
        @Override public java.net.http.HttpHeaders headers() { return raw.headers(); }
        @Override public Optional<javax.net.ssl.SSLSession> sslSession() { return raw.sslSession(); }
        @Override public URI uri() { return raw.uri(); }
        @Override public HttpClient.Version version() { return raw.version(); }
    }

    static JsonMapper mapper() {
        return JSON;
    }
}

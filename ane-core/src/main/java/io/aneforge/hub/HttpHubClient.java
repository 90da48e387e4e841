package io.aneforge.hub;

import io.aneforge.io.BodyTimeout;
import io.aneforge.io.IdleTimeoutInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link HubClient} over {@code java.net.http}, following HUB.md: HEAD for commit/etag/size,
 * download to {@code blobs/{etag}.incomplete} with {@code Range} resume, sha256 (LFS) or git
 * sha1 (small files) checked against the etag before the blob is moved into place, redirects
 * followed by hand so {@code Authorization} never leaves the Hub's host, bounded retries with
 * exponential backoff. Offline mode never builds a request. {@code requestTimeout} bounds the wait
 * for response headers and, through {@link IdleTimeoutInputStream}, each wait for body bytes; model info
 * must arrive whole within it, and a file download must average {@link #MIN_DOWNLOAD_RATE} after its first
 * {@code requestTimeout} ({@link BodyTimeout#download}), so a server trickling a byte just inside every wait
 * is cut off too (a stalled or trickling download is retried with resume like a dropped connection); a body
 * longer than the announced size is cut off as soon as it passes that size.
 */
public final class HttpHubClient implements HubClient {
    private static final int MAX_REDIRECTS = 5;
    private static final int BUFFER = 1 << 16;
    /**
     * Slowest average a file download may keep after its first {@code requestTimeout}, in bytes per second:
     * far below any working link (a 1 GB shard may take 4.5 h at this rate), but a server sending a byte every
     * 29 s no longer holds a conversion for ever.
     */
    static final long MIN_DOWNLOAD_RATE = 64 * 1024;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HubConfig config;
    private final HubCache cache;
    private final HttpClient http;

    public HttpHubClient(HubConfig config) {
        this.config = config;
        this.cache = new HubCache(config.cacheDir());
        // Redirects are followed by hand: the JDK would forward Authorization to the CDN host.
        this.http = config.offline() ? null : HttpClient.newBuilder()
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public HubCache cache() {
        return cache;
    }

    @Override
    public Path snapshotDir(String repoId, String commit) {
        return cache.repoDir(repoId).resolve("snapshots").resolve(commit);
    }

    @Override
    public RepoInfo modelInfo(String repoId, String revision) throws IOException {
        HubCache.checkRepoId(repoId);
        HubCache.checkRevision(revision);
        if (config.offline()) {
            String commit = cache.commitOf(repoId, revision).orElseThrow(() -> new HubException(
                    HubException.Kind.OFFLINE_NOT_CACHED, "HF_HUB_OFFLINE=1 and " + repoId + "@" + revision
                    + " is not in the cache " + cache.root() + ": run once online or unset HF_HUB_OFFLINE"));
            Path dir = snapshotDir(repoId, commit);
            if (!Files.isDirectory(dir)) {
                throw new HubException(HubException.Kind.OFFLINE_NOT_CACHED, "HF_HUB_OFFLINE=1 and no snapshot of "
                        + repoId + "@" + commit + " in " + cache.root());
            }
            List<String> files = new ArrayList<>();
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.filter(p -> !Files.isDirectory(p)).forEach(p -> files.add(dir.relativize(p).toString()
                        .replace('\\', '/')));
            }
            files.sort(null);
            return new RepoInfo(repoId, commit, files);
        }
        URI uri = URI.create(config.endpoint() + "/api/models/" + repoId + "/revision/" + encode(revision));
        HttpResponse<InputStream> response = send(request(uri, true).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream(), repoId, revision, null);
        byte[] body;
        try {
            body = IdleTimeoutInputStream.readAll(response.body(), BodyTimeout.answer(config.requestTimeout()), uri);
        } catch (IOException e) {
            throw new HubException(HubException.Kind.NO_NETWORK, "model info for " + repoId + "@" + revision
                    + " did not arrive: " + e.getMessage(), e);
        }
        checkStatus(response, repoId, revision, null);
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JacksonException e) {
            throw new HubException(HubException.Kind.HTTP, "model info for " + repoId + "@" + revision
                    + " is not valid JSON: " + e.getOriginalMessage());
        }
        String sha = root.path("sha").asString("");
        if (!HubCache.isCommit(sha)) {
            throw new HubException(HubException.Kind.HTTP, "model info for " + repoId + "@" + revision
                    + " has no 40-hex 'sha'");
        }
        List<String> files = new ArrayList<>();
        for (JsonNode s : root.path("siblings")) {
            String name = s.path("rfilename").asString("");
            HubCache.checkFileName(name);
            files.add(name);
        }
        cache.writeRef(repoId, revision, sha);
        return new RepoInfo(repoId, sha, files);
    }

    @Override
    public Path download(String repoId, String revision, String file) throws IOException {
        HubCache.checkRepoId(repoId);
        HubCache.checkRevision(revision);
        HubCache.checkFileName(file);
        Optional<String> cachedCommit = cache.commitOf(repoId, revision);
        if (cachedCommit.isPresent()) {
            Path cached = cache.snapshot(repoId, cachedCommit.get(), file);
            if (Files.exists(cached)) {
                return cached;
            }
            if (Files.exists(cache.noExist(repoId, cachedCommit.get(), file)) && config.offline()) {
                throw new HubException(HubException.Kind.ENTRY_NOT_FOUND, file + " does not exist in " + repoId
                        + "@" + cachedCommit.get() + " (cached .no_exist marker)");
            }
        }
        if (config.offline()) {
            throw new HubException(HubException.Kind.OFFLINE_NOT_CACHED, "HF_HUB_OFFLINE=1 and " + repoId + "@"
                    + revision + ":" + file + " is not in the cache " + cache.root()
                    + ": run once online or unset HF_HUB_OFFLINE");
        }
        URI resolve = URI.create(config.endpoint() + "/" + repoId + "/resolve/" + encode(revision) + "/"
                + encodePath(file));
        HttpResponse<Void> head = send(request(resolve, true).method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept-Encoding", "identity").build(), HttpResponse.BodyHandlers.discarding(),
                repoId, revision, file);
        if (head.statusCode() == 404 && "EntryNotFound".equals(head.headers().firstValue("X-Error-Code").orElse(""))) {
            Optional<String> commit = head.headers().firstValue("X-Repo-Commit").filter(HubCache::isCommit);
            if (commit.isPresent()) {
                cache.markMissing(repoId, commit.get(), file);
            }
        }
        checkStatus(head, repoId, revision, file);
        String commit = head.headers().firstValue("X-Repo-Commit").orElse("");
        if (!HubCache.isCommit(commit)) {
            throw new HubException(HubException.Kind.HTTP, "Hub response for " + repoId + ":" + file
                    + " lacks a 40-hex X-Repo-Commit header (is HF_ENDPOINT a Hub?)");
        }
        String etag = normalizeEtag(head.headers().firstValue("X-Linked-Etag")
                .or(() -> head.headers().firstValue("ETag")).orElse(""));
        if (!etag.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
            throw new HubException(HubException.Kind.HTTP, "Hub response for " + repoId + ":" + file
                    + " has no usable ETag (got '" + etag + "')");
        }
        long size = head.headers().firstValue("X-Linked-Size").or(() -> head.headers().firstValue("Content-Length"))
                .map(HttpHubClient::parseLong).orElse(-1L);
        URI source = head.headers().firstValue("Location").map(resolve::resolve).orElse(resolve);

        Path blob = cache.blob(repoId, etag);
        if (!Files.exists(blob)) {
            Files.createDirectories(blob.getParent());
            try (HubCache.BlobLock lock = cache.lock(repoId, etag)) {
                if (!Files.exists(blob)) {
                    fetchBlob(source, blob, etag, size, repoId + ":" + file);
                }
            }
        }
        cache.writeRef(repoId, revision, commit);
        return cache.link(repoId, commit, file, etag);
    }

    /** Downloads into {@code blob + ".incomplete"}, resuming across attempts, then verifies and moves it. */
    private void fetchBlob(URI source, Path blob, String etag, long size, String what) throws IOException {
        Path partial = blob.resolveSibling(etag + ".incomplete");
        IOException last = null;
        for (int attempt = 0; attempt <= config.maxRetries(); attempt++) {
            if (attempt > 0) {
                backoff(attempt);
            }
            try {
                MessageDigest digest = digest(etag.length() == 64 ? "SHA-256" : "SHA-1");
                if (transfer(source, partial, size, what, digest)) {
                    verify(partial, etag, size, what, digest);
                    Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE);
                    return;
                }
                last = new HubException(HubException.Kind.HTTP, "server error downloading " + what);
            } catch (HubException e) {
                if (e.kind() != HubException.Kind.NO_NETWORK) {
                    throw e;
                }
                last = e;
            } catch (IOException e) {
                // Connection dropped mid-body: keep the partial file and resume with Range.
                last = e;
            }
        }
        throw new HubException(HubException.Kind.NO_NETWORK, "download of " + what + " failed after "
                + (config.maxRetries() + 1) + " attempts (partial file kept for resume: " + partial + "): "
                + last.getMessage(), last);
    }

    /** One attempt; true when the body was received completely, false on a retryable status. */
    private boolean transfer(URI source, Path partial, long size, String what, MessageDigest digest)
            throws IOException {
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        if (size >= 0 && have > size) {
            Files.delete(partial);
            have = 0;
        }
        URI uri = source;
        HttpResponse<InputStream> response = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = request(uri, sameHost(uri)).GET().header("Accept-Encoding", "identity");
            if (have > 0) {
                b.header("Range", "bytes=" + have + "-");
            }
            response = send(b.build(), HttpResponse.BodyHandlers.ofInputStream(), what, null, null);
            int status = response.statusCode();
            if (status >= 300 && status < 400 && response.headers().firstValue("Location").isPresent()) {
                response.body().close();
                uri = uri.resolve(response.headers().firstValue("Location").get());
                continue;
            }
            break;
        }
        int status = response.statusCode();
        try (InputStream in = IdleTimeoutInputStream.wrap(response.body(),
                BodyTimeout.download(config.requestTimeout(), MIN_DOWNLOAD_RATE), uri)) {
            if (status == 416 && size >= 0 && have == size) {
                // Already complete from an earlier attempt: hash what is on disk.
                try (InputStream existing = Files.newInputStream(partial)) {
                    updateDigest(digest, existing);
                }
                return true;
            }
            if (status == 429 || status >= 500) {
                return false;
            }
            if (status != 200 && status != 206) {
                throw new HubException(HubException.Kind.HTTP, "HTTP " + status + " downloading " + what
                        + " from " + uri.getHost());
            }
            boolean append = status == 206 && have > 0;
            if (append) {
                // Resuming: the digest must first cover the bytes already on disk.
                try (InputStream existing = Files.newInputStream(partial)) {
                    updateDigest(digest, existing);
                }
            }
            long total = append ? have : 0;
            boolean tooLong = false;
            try (OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buffer = new byte[BUFFER];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    total += n;
                    if (size >= 0 && total > size) {
                        // Stop at the announced size: an endless body must not fill the cache's disk.
                        tooLong = true;
                        break;
                    }
                    digest.update(buffer, 0, n); // hashed while streaming
                    out.write(buffer, 0, n);
                }
            }
            if (tooLong) {
                Files.deleteIfExists(partial);
                throw new HubException(HubException.Kind.INTEGRITY, "integrity failure for " + what + ": the body from "
                        + uri.getHost() + " is longer than the announced " + size + " bytes (download discarded; retry)");
            }
        }
        return true;
    }

    /**
     * Size, then sha256 (LFS etag) or git blob sha1 (small files) from the streaming digest; a
     * mismatch deletes the partial file. Git's blob id hashes a "blob {size}\0" prefix first, so
     * for small files the content is hashed again here (they are small by definition).
     */
    private static void verify(Path partial, String etag, long size, String what, MessageDigest streamed)
            throws IOException {
        long actual = Files.size(partial);
        if (size >= 0 && actual != size) {
            Files.deleteIfExists(partial);
            throw new HubException(HubException.Kind.INTEGRITY, "integrity failure for " + what + ": expected "
                    + size + " bytes, got " + actual + " (download discarded; retry)");
        }
        boolean lfs = etag.length() == 64;
        MessageDigest digest = streamed;
        if (!lfs) {
            digest = digest("SHA-1");
            digest.update(("blob " + actual + "\0").getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = Files.newInputStream(partial)) {
                updateDigest(digest, in);
            }
        }
        String got = HexFormat.of().formatHex(digest.digest());
        if (!got.equals(etag)) {
            Files.deleteIfExists(partial);
            throw new HubException(HubException.Kind.INTEGRITY, "integrity failure for " + what + ": "
                    + (lfs ? "sha256 " : "git sha1 ") + got + " does not match the Hub's etag " + etag
                    + " (corrupted transfer or tampered mirror; download discarded)");
        }
    }

    private static void updateDigest(MessageDigest digest, InputStream in) throws IOException {
        byte[] buffer = new byte[BUFFER];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            digest.update(buffer, 0, n);
        }
    }

    private HttpRequest.Builder request(URI uri, boolean withAuth) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(config.requestTimeout())
                .header("User-Agent", "aneforge/0.1");
        if (withAuth && config.token() != null) {
            b.header("Authorization", "Bearer " + config.token());
        }
        return b;
    }

    /** The token goes only to the Hub itself: CDN URLs are pre-signed. */
    private boolean sameHost(URI uri) {
        URI hub = config.endpoint();
        return hub.getHost().equalsIgnoreCase(uri.getHost()) && port(hub) == port(uri)
                && hub.getScheme().equalsIgnoreCase(uri.getScheme());
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : ("https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80);
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler, String repoId,
                                     String revision, String file) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt <= config.maxRetries(); attempt++) {
            if (attempt > 0) {
                backoff(attempt);
            }
            try {
                HttpResponse<T> response = http.send(request, handler);
                int status = response.statusCode();
                // Streamed downloads retry (with resume) in fetchBlob; everything else retries here.
                boolean streamed = request.headers().firstValue("Range").isPresent()
                        || !request.uri().getPath().startsWith("/api/") && request.method().equals("GET");
                if ((status == 429 || status >= 500) && attempt < config.maxRetries() && !streamed) {
                    if (response.body() instanceof InputStream unread) {
                        unread.close(); // frees the connection
                    }
                    continue;
                }
                return response;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubException.Kind.NO_NETWORK, "interrupted talking to " + request.uri().getHost());
            } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
                last = e;
            } catch (HttpTimeoutException e) {
                last = e;
            } catch (IOException e) {
                last = e;
            }
        }
        throw new HubException(HubException.Kind.NO_NETWORK, "cannot reach " + request.uri().getScheme() + "://"
                + request.uri().getAuthority() + " after " + (config.maxRetries() + 1) + " attempts (" + last
                + "); check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use the cache", last);
    }

    private static void checkStatus(HttpResponse<?> response, String repoId, String revision, String file)
            throws HubException {
        int status = response.statusCode();
        if (status < 400) {
            return;
        }
        String code = response.headers().firstValue("X-Error-Code").orElse("");
        String what = repoId + "@" + revision + (file == null ? "" : ":" + file);
        if (code.equals("GatedRepo") || status == 403) {
            throw new HubException(HubException.Kind.GATED, "gated: " + repoId + " requires accepting its terms on"
                    + " the Hub with the account of HF_TOKEN (HTTP " + status + ")");
        }
        if (code.equals("RepoNotFound") || status == 401) {
            throw new HubException(HubException.Kind.REPO_NOT_FOUND_OR_PRIVATE, "repo not found or private: "
                    + repoId + " (HTTP " + status + "); check the name, or set HF_TOKEN for a private repo");
        }
        if (code.equals("RevisionNotFound")) {
            throw new HubException(HubException.Kind.REVISION_NOT_FOUND, "revision not found: '" + revision
                    + "' does not exist in " + repoId);
        }
        if (code.equals("EntryNotFound") || (status == 404 && file != null)) {
            throw new HubException(HubException.Kind.ENTRY_NOT_FOUND, "file not found: " + what);
        }
        if (status == 404) {
            throw new HubException(HubException.Kind.REPO_NOT_FOUND_OR_PRIVATE, "repo not found or private: "
                    + repoId + " (HTTP 404)");
        }
        throw new HubException(HubException.Kind.HTTP, "HTTP " + status + " for " + what);
    }

    private void backoff(int attempt) throws HubException {
        long millis = config.initialBackoff().toMillis() << Math.min(attempt - 1, 6);
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubException.Kind.NO_NETWORK, "interrupted while backing off");
        }
    }

    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        return e.replace("\"", "").toLowerCase(java.util.Locale.ROOT);
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String encode(String revision) {
        return URLEncoder.encode(revision, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String file) {
        List<String> parts = new ArrayList<>();
        for (String seg : file.split("/")) {
            parts.add(encode(seg));
        }
        return String.join("/", parts);
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is required by every JRE", e);
        }
    }
}

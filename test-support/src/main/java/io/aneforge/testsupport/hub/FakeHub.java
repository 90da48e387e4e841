package io.aneforge.testsupport.hub;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

/**
 * A local stand-in for the Hugging Face Hub (see HUB.md): model info at a revision, {@code resolve}
 * URLs with {@code X-Repo-Commit}/{@code X-Linked-Etag}/{@code X-Linked-Size}, LFS files redirected
 * to a second "CDN" server (a different host:port), {@code Range} requests, private and gated repos,
 * and one-shot fault injection. Every request is logged for assertions (e.g. no Authorization on
 * the CDN, no request at all in offline mode).
 */
public final class FakeHub implements AutoCloseable {
    /** One-shot faults injected on the next download of a file's content. */
    public enum Fault {
        /** Send the headers for the full body, half the bytes, then close the connection. */
        DROP_MID_FILE,
        /** Send the full length with one byte flipped (sha256 mismatch). */
        CORRUPT_BODY,
        /** Answer 500 once. */
        SERVER_ERROR
    }

    /** A logged request. {@code server} is "hub" or "cdn". */
    public record Request(String server, String method, String path, String authorization, String range) {
    }

    private record Blob(byte[] content, boolean lfs, String etag) {
    }

    /** A repository: commits (file name to content), refs, access rules. */
    public final class Repo {
        private final String id;
        private final Map<String, Map<String, Blob>> commits = new ConcurrentHashMap<>();
        private final Map<String, String> refs = new ConcurrentHashMap<>();
        private volatile String privateToken;
        private volatile String gatedToken;

        private Repo(String id) {
            this.id = id;
        }

        /**
         * Adds a commit and points {@code ref} at it. Files ending in .safetensors, .onnx, .bin or
         * over 10 kB are LFS (etag = sha256, served from the CDN); others are plain git blobs.
         */
        public Repo commit(String sha, String ref, Map<String, byte[]> files) {
            Map<String, Blob> blobs = new LinkedHashMap<>();
            files.forEach((name, content) -> {
                boolean lfs = name.endsWith(".safetensors") || name.endsWith(".onnx") || name.endsWith(".bin")
                        || content.length > 10_000;
                blobs.put(name, new Blob(content, lfs, lfs ? sha256(content) : gitBlobSha1(content)));
            });
            commits.put(sha, blobs);
            refs.put(ref, sha);
            return this;
        }

        public Repo ref(String name, String sha) {
            refs.put(name, sha);
            return this;
        }

        /** Requires {@code Authorization: Bearer token}; without it the repo looks absent (401). */
        public Repo privateRepo(String token) {
            this.privateToken = token;
            return this;
        }

        /** Requires a token that accepted the terms; otherwise 403 GatedRepo. */
        public Repo gated(String token) {
            this.gatedToken = token;
            return this;
        }

        public String id() {
            return id;
        }
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-hub");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, Blob> cdnBlobs = new ConcurrentHashMap<>();
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Request> log = new ConcurrentLinkedQueue<>();
    private volatile int downloadDelayMillis;

    private FakeHub() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        hub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        hub.createContext("/", this::handleHub);
        cdn.createContext("/", this::handleCdn);
        hub.setExecutor(executor);
        cdn.setExecutor(executor);
        hub.start();
        cdn.start();
    }

    public static FakeHub start() throws IOException {
        return new FakeHub();
    }

    /** Base URL to use as {@code HF_ENDPOINT}. */
    public String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    public String cdnEndpoint() {
        return "http://127.0.0.1:" + cdn.getAddress().getPort();
    }

    public Repo repo(String id) {
        return repos.computeIfAbsent(id, Repo::new);
    }

    /** Injects {@code fault} into the next content download of {@code fileName} (any repo). */
    public void fault(String fileName, Fault fault) {
        faults.put(fileName, fault);
    }

    /** Slows content downloads down (per 64 kB chunk) so concurrent downloads really overlap. */
    public void downloadDelayMillis(int millis) {
        this.downloadDelayMillis = millis;
    }

    public List<Request> requests() {
        return Collections.unmodifiableList(new ArrayList<>(log));
    }

    public void clearRequests() {
        log.clear();
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        executor.shutdownNow();
    }

    // ---- hub ----

    private void handleHub(HttpExchange ex) throws IOException {
        try (ex) {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            log.add(new Request("hub", ex.getRequestMethod(), ex.getRequestURI().toString(), auth,
                    ex.getRequestHeaders().getFirst("Range")));
            List<String> seg = segments(ex.getRequestURI().getRawPath());
            if (seg.size() >= 5 && seg.get(0).equals("api") && seg.get(1).equals("models") && seg.get(4).equals("revision")
                    && seg.size() == 6) {
                modelInfo(ex, seg.get(2) + "/" + seg.get(3), seg.get(5), auth);
            } else if (seg.size() >= 5 && seg.get(2).equals("resolve")) {
                resolve(ex, seg.get(0) + "/" + seg.get(1), seg.get(3), String.join("/", seg.subList(4, seg.size())),
                        auth);
            } else {
                error(ex, 404, null, "no route");
            }
        }
    }

    private Repo access(HttpExchange ex, String repoId, String auth) throws IOException {
        Repo repo = repos.get(repoId);
        if (repo == null || (repo.privateToken != null && !("Bearer " + repo.privateToken).equals(auth))) {
            error(ex, 401, "RepoNotFound", "Repository not found");
            return null;
        }
        if (repo.gatedToken != null && !("Bearer " + repo.gatedToken).equals(auth)) {
            error(ex, 403, "GatedRepo", "Access to model " + repoId + " is restricted");
            return null;
        }
        return repo;
    }

    private String commitOf(Repo repo, String revision) {
        if (repo.commits.containsKey(revision)) {
            return revision;
        }
        return repo.refs.get(revision);
    }

    private void modelInfo(HttpExchange ex, String repoId, String revision, String auth) throws IOException {
        Repo repo = access(ex, repoId, auth);
        if (repo == null) {
            return;
        }
        String sha = commitOf(repo, revision);
        if (sha == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + revision);
            return;
        }
        StringBuilder json = new StringBuilder("{\"id\":\"" + repoId + "\",\"sha\":\"" + sha + "\",\"siblings\":[");
        boolean first = true;
        for (Map.Entry<String, Blob> e : repo.commits.get(sha).entrySet()) {
            json.append(first ? "" : ",").append("{\"rfilename\":\"").append(e.getKey()).append("\",\"size\":")
                    .append(e.getValue().content.length);
            if (e.getValue().lfs) {
                json.append(",\"lfs\":{\"sha256\":\"").append(e.getValue().etag).append("\",\"size\":")
                        .append(e.getValue().content.length).append('}');
            }
            json.append('}');
            first = false;
        }
        byte[] body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
    }

    private void resolve(HttpExchange ex, String repoId, String revision, String file, String auth) throws IOException {
        Repo repo = access(ex, repoId, auth);
        if (repo == null) {
            return;
        }
        String sha = commitOf(repo, revision);
        if (sha == null) {
            error(ex, 404, "RevisionNotFound", "Invalid rev id: " + revision);
            return;
        }
        Blob blob = repo.commits.get(sha).get(file);
        Headers h = ex.getResponseHeaders();
        h.set("X-Repo-Commit", sha);
        if (blob == null) {
            error(ex, 404, "EntryNotFound", file + " does not exist on " + revision);
            return;
        }
        if (blob.lfs) {
            cdnBlobs.put(blob.etag, blob);
            h.set("X-Linked-Etag", "\"" + blob.etag + "\"");
            h.set("X-Linked-Size", String.valueOf(blob.content.length));
            h.set("ETag", "\"" + gitBlobSha1(blob.etag.getBytes(StandardCharsets.US_ASCII)) + "\"");
            h.set("Location", cdnEndpoint() + "/blobs/" + blob.etag + "?X-Amz-Signature=fake");
            ex.sendResponseHeaders(302, -1);
            return;
        }
        h.set("ETag", "\"" + blob.etag + "\"");
        sendContent(ex, file, blob);
    }

    // ---- cdn ----

    private void handleCdn(HttpExchange ex) throws IOException {
        try (ex) {
            log.add(new Request("cdn", ex.getRequestMethod(), ex.getRequestURI().toString(),
                    ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range")));
            List<String> seg = segments(ex.getRequestURI().getRawPath());
            Blob blob = seg.size() == 2 && seg.get(0).equals("blobs") ? cdnBlobs.get(seg.get(1)) : null;
            if (blob == null) {
                error(ex, 404, null, "no such blob");
                return;
            }
            ex.getResponseHeaders().set("ETag", "\"" + blob.etag + "\"");
            sendContent(ex, fileNameOf(blob), blob);
        }
    }

    private String fileNameOf(Blob blob) {
        for (Repo r : repos.values()) {
            for (Map<String, Blob> files : r.commits.values()) {
                for (Map.Entry<String, Blob> e : files.entrySet()) {
                    if (e.getValue() == blob) {
                        return e.getKey();
                    }
                }
            }
        }
        return "";
    }

    /** Body with Range support and one-shot faults; HEAD sends headers only. */
    private void sendContent(HttpExchange ex, String file, Blob blob) throws IOException {
        byte[] content = blob.content;
        Headers h = ex.getResponseHeaders();
        h.set("Accept-Ranges", "bytes");
        if (ex.getRequestMethod().equals("HEAD")) {
            h.set("X-Content-Size", String.valueOf(content.length));
            ex.sendResponseHeaders(200, -1);
            return;
        }
        Fault fault = faults.remove(file);
        if (fault == Fault.SERVER_ERROR) {
            error(ex, 500, null, "injected server error");
            return;
        }
        int start = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        int status = 200;
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            start = Integer.parseInt(range.substring(6, range.length() - 1));
            if (start >= content.length) {
                h.set("Content-Range", "bytes */" + content.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            status = 206;
            h.set("Content-Range", "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
        }
        int length = content.length - start;
        ex.sendResponseHeaders(status, length == 0 ? -1 : length);
        if (length == 0) {
            return;
        }
        OutputStream out = ex.getResponseBody();
        if (fault == Fault.DROP_MID_FILE) {
            out.write(content, start, length / 2);
            out.flush();
            sleep(200); // let the sent half reach the client before the connection drops
            // Closing the exchange with bytes still owed makes the server drop the connection.
            throw new IOException("injected: connection dropped mid-file");
        }
        byte[] body = content;
        if (fault == Fault.CORRUPT_BODY) {
            body = content.clone();
            body[start + length / 2] ^= 0x5A;
        }
        int chunk = 64 * 1024;
        for (int off = start; off < content.length; off += chunk) {
            out.write(body, off, Math.min(chunk, content.length - off));
            if (downloadDelayMillis > 0) {
                out.flush();
                sleep(downloadDelayMillis);
            }
        }
    }

    private static void sleep(int millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        if (code != null) {
            ex.getResponseHeaders().set("X-Error-Code", code);
        }
        ex.getResponseHeaders().set("X-Error-Message", message);
        byte[] body = ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    private static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                out.add(URLDecoder.decode(s, StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    public static String sha256(byte[] content) {
        return hex("SHA-256", content);
    }

    /** Git's blob id: sha1("blob " + length + "\0" + content), the etag of non-LFS files. */
    public static String gitBlobSha1(byte[] content) {
        byte[] prefix = ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[prefix.length + content.length];
        System.arraycopy(prefix, 0, all, 0, prefix.length);
        System.arraycopy(content, 0, all, prefix.length, content.length);
        return hex("SHA-1", all);
    }

    private static String hex(String algorithm, byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

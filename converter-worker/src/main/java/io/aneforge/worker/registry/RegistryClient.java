package io.aneforge.worker.registry;

import io.aneforge.io.BodyTimeout;
import io.aneforge.io.IdleTimeoutInputStream;
import io.aneforge.worker.WorkerProperties;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import io.aneforge.worker.registry.RegistryModels.Lease;
import io.aneforge.worker.registry.RegistryModels.Progress;
import io.aneforge.worker.registry.RegistryModels.Registration;
import io.aneforge.worker.registry.RegistryModels.Variant;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The worker's side of the registry REST API (bearer token with the worker role).
 *
 * <p>Timeouts: small JSON calls get {@link WorkerProperties#requestTimeout()} for the whole call, headers and
 * body (the JDK's request timeout ends with the headers, the body gets what is left of it); blob uploads
 * get {@link WorkerProperties#transferTimeout()} because the request itself streams a whole archive; a heartbeat
 * gets the (shorter) timeout its caller passes, so that one stalled connection cannot outlast the lease.
 *
 * <p>Retries: a call whose repeat leaves the registry as one call would ({@link Repeat#SAFE}: progress reports,
 * complete, fail, release, blob uploads, variant registration, golden data, reads) is tried again after a
 * transient failure — connection refused or reset, a timeout, HTTP 429, 502, 503 or 504 — up to
 * {@link WorkerProperties#retries()} times with doubling backoff. Leases are never repeated (a lost answer
 * would lease a conversion twice) and neither are heartbeats (the next beat is their retry). What still fails
 * throws a {@link RegistryException} that tells a transient failure from a refusal.
 */
@Component
public class RegistryClient {

    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Whether a call may be sent again after a transient failure. */
    private enum Repeat {
        /** The registry ends up in the same state whether it applied the call once or more often. */
        SAFE,
        /** Sent once: a repeat could do the work twice (a lease), or a fresh call follows anyway (a heartbeat). */
        ONCE
    }

    /** What a body is given at least when the headers took (nearly) the whole timeout: it may be complete already. */
    private static final Duration MIN_BODY_TIME = Duration.ofMillis(1);

    private final URI base;
    private final String token;
    private final Duration requestTimeout;
    private final Duration transferTimeout;
    private final int retries;
    private final Duration retryBackoff;
    private final HttpClient http;

    public RegistryClient(WorkerProperties props) {
        String u = props.registryUrl().toString();
        this.base = URI.create(u.endsWith("/") ? u : u + "/");
        this.token = props.token();
        this.requestTimeout = props.requestTimeout();
        this.transferTimeout = props.transferTimeout();
        this.retries = props.retries();
        this.retryBackoff = props.retryBackoff();
        Duration connect = Duration.ofSeconds(10);
        this.http = HttpClient.newBuilder().connectTimeout(requestTimeout.compareTo(connect) < 0 ? requestTimeout : connect)
                .build();
    }

    /** The bound of a small JSON call (a heartbeat's bound is at most this). */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * Leases the oldest queued conversion, or empty when there is none.
     *
     * @throws UnreadableLeaseException when the answer is a success this worker cannot read (with the request id to
     *     release the lease by)
     */
    public Optional<Lease> leaseNext(String worker) {
        String request = UUID.randomUUID().toString();
        Reply r = sendLease("api/v1/conversions/lease", worker, request);
        if (r.statusCode() == 204) return Optional.empty();
        return Optional.of(readLease(r, request));
    }

    /**
     * The conversion options this worker acts on, sent with every lease call: 1, {@code head} and {@code tokenTypes}
     * ({@link Conversion#headChoice}, {@link Conversion#takesTokenTypes}); 2, also {@code head} {@code pre-training}
     * (registry V31). The registry never leases a conversion that sets them to a worker that declares less (an older
     * worker would ignore them and build other packages, or fail on a head it does not know).
     */
    static final int CONVERSION_OPTIONS = 2;

    /** Leases one conversion by id (recovery); {@link UnreadableLeaseException} as {@link #leaseNext}. */
    public Lease lease(long id, String worker) {
        String request = UUID.randomUUID().toString();
        return readLease(sendLease("api/v1/conversions/" + id + "/lease", worker, request), request);
    }

    /**
     * A lease call, sent once.
     *
     * @throws LeaseAnswerLostException when it gets no answer (a reset, a timeout, a body cut short) or a proxy's 5xx
     *     (the registry's own 5xx problem ends its call without a lease): a lease may have been granted for it, now or,
     *     while the call is still on its way, later
     */
    private Reply sendLease(String path, String worker, String request) {
        Reply r;
        try {
            r = send("POST", path, json(Map.of("worker", worker, "request", request, "conversionOptions",
                    CONVERSION_OPTIONS)), Repeat.ONCE);
        } catch (RegistryException e) {
            if (!e.isTransient()) throw e; // interrupted: the worker is stopping
            // A refused connection or a connect timeout never reached the registry: nothing can have been granted.
            if (neverSent(e)) throw e;
            throw new LeaseAnswerLostException(e, request, Instant.now().plus(requestTimeout));
        }
        if (r.statusCode() >= 500 && problem(r) == null) {
            throw new LeaseAnswerLostException(failure("POST " + r.request().uri().getPath(), r), request,
                    Instant.now().plus(requestTimeout));
        }
        return r;
    }

    /**
     * Whether a call failed before its request could reach the registry: the connection was refused or not set up
     * within the connect timeout. Anything later (a reset, a timeout waiting for the answer) may have been applied.
     */
    static boolean neverSent(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.http.HttpConnectTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /**
     * A lease answer: each call carries a fresh request id, which the registry keeps with the lease it grants. A
     * success that does not parse (HTML from a proxy, JSON without a lease token) still granted a lease, so it is
     * an {@link UnreadableLeaseException} naming the request, for the caller to release that lease by it. A body cut
     * short in transfer or an idle timeout is not such an answer: it fails the call as a transport error before this
     * is reached ({@link LeaseAnswerLostException}, released by the request id too).
     */
    private Lease readLease(Reply r, String request) {
        if (r.statusCode() / 100 != 2) throw failure(r.request().method() + " " + r.request().uri().getPath(), r);
        try {
            Lease lease = JSON.readValue(r.body(), Lease.class);
            if (lease == null || lease.leaseToken() == null || lease.conversion() == null) {
                throw new IllegalArgumentException("no leaseToken or conversion in it");
            }
            return lease;
        } catch (RuntimeException e) {
            String body = new String(r.body() == null ? new byte[0] : r.body(), StandardCharsets.UTF_8)
                    .replaceAll("\\s+", " ").strip();
            throw new UnreadableLeaseException("lease answer (HTTP " + r.statusCode() + ") not understood (" + e.getMessage()
                    + "); the answer: " + (body.length() <= 300 ? body : body.substring(0, 297) + "..."), request, e);
        }
    }

    /**
     * Releases the lease the registry granted for lease call {@code request} (see {@link UnreadableLeaseException}),
     * if this worker still holds it. Safe to repeat: a repeat finds nothing held for the request ({@code none}). A
     * registry before V14 answers only {@code released} (true or false): then the answer is not {@link
     * HandBack#counted()}.
     */
    public HandBack releaseLeaseRequest(String request, String worker, String reason) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("worker", worker);
        if (reason != null) body.put("reason", reason.length() > 1000 ? reason.substring(0, 1000) : reason);
        Reply r = send("POST", "api/v1/conversions/lease-requests/" + request + "/release", json(body), Repeat.SAFE);
        JsonNode n = read(r, JsonNode.class);
        Long id = n.path("conversionId").isNumber() ? n.path("conversionId").asLong() : null;
        String failure = n.path("failure").isString() ? n.path("failure").asString() : null;
        if (n.path("outcome").isString()) return new HandBack(id, n.path("outcome").asString(), failure, true);
        return new HandBack(id, n.path("released").asBoolean() ? HandBack.RELEASED : HandBack.NONE, null, false);
    }

    /** Extends the lease; {@code timeout} bounds the whole call, headers and body. */
    public Lease heartbeat(long id, String leaseToken, Duration timeout) {
        HttpRequest req = withBody(request("api/v1/conversions/" + id + "/heartbeat", timeout), "POST",
                json(Map.of("leaseToken", leaseToken)));
        return read(exchange(req, timeout, Repeat.ONCE), Lease.class);
    }

    public Conversion progress(long id, Progress p) {
        return read(send("POST", "api/v1/conversions/" + id + "/progress", json(p), Repeat.SAFE), Conversion.class);
    }

    /** Completes the conversion (publishes the version); the registry answers a repeat of the same lease alike. */
    public Conversion complete(long id, String leaseToken) {
        return read(send("POST", "api/v1/conversions/" + id + "/complete", json(Map.of("leaseToken", leaseToken)),
                Repeat.SAFE), Conversion.class);
    }

    /** Fails the conversion for good; the registry answers a repeat of the same lease alike. */
    public Conversion fail(long id, String leaseToken, String reason) {
        return read(send("POST", "api/v1/conversions/" + id + "/fail",
                json(Map.of("leaseToken", leaseToken, "reason", reason)), Repeat.SAFE), Conversion.class);
    }

    /**
     * Hands the lease back: the conversion is queued again without spending an attempt (a repeat of the same release
     * gets the same answer). {@code trouble}: the conversion could not go on for a reason that is not its own (the
     * registry unreachable, the worker unable to run the job); the registry counts such hand-backs per conversion and
     * worker and past its bound fails the conversion instead (the answer says so). A lease that is no longer this
     * worker's is a 409 {@code lease-lost}. A registry before V14 answers 204 and counts nothing: the answer is then
     * not {@link HandBack#counted()}.
     */
    public HandBack release(long id, String leaseToken, String reason, boolean trouble) {
        return release(id, leaseToken, reason, trouble, requestTimeout, Repeat.SAFE);
    }

    /**
     * A stopping worker's release (not trouble: not counted), sent once and bounded by {@code timeout} (headers and
     * body): a stopping worker has only the time its orchestrator gives it, which the retries could outlast.
     */
    public HandBack releaseOnce(long id, String leaseToken, String reason, Duration timeout) {
        return release(id, leaseToken, reason, false, timeout, Repeat.ONCE);
    }

    private HandBack release(long id, String leaseToken, String reason, boolean trouble, Duration timeout, Repeat repeat) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("leaseToken", leaseToken);
        if (reason != null) body.put("reason", reason.length() > 1000 ? reason.substring(0, 1000) : reason);
        // Named either way: a registry that counts hand-backs then answers 200 with what it did (204 without it, for
        // workers that expect 204).
        body.put("trouble", trouble);
        Reply r = exchange(withBody(request("api/v1/conversions/" + id + "/release", timeout), "POST", json(body)),
                timeout, repeat);
        if (r.statusCode() == 409 && r.tries() > 1) {
            // The first try may have landed with its answer lost: the lease is then handed back already (and
            // perhaps leased by another worker since), which is all the registry can say with lease-lost.
            RegistryException e = failure("POST " + r.request().uri().getPath(), r);
            throw new RegistryException(e.getMessage() + " (on try " + r.tries() + " of this release; an earlier try"
                    + " may have handed the lease back already)", e.status(), e.problem(), null);
        }
        if (r.statusCode() == 204) return new HandBack(id, HandBack.RELEASED, null, false);
        JsonNode n = read(r, JsonNode.class);
        if (!n.path("outcome").isString()) return new HandBack(id, HandBack.RELEASED, null, false);
        return new HandBack(id, n.path("outcome").asString(),
                n.path("failure").isString() ? n.path("failure").asString() : null, true);
    }

    public Conversion conversion(long id) {
        return read(send("GET", "api/v1/conversions/" + id, null, Repeat.SAFE), Conversion.class);
    }

    /** Whether a verified blob with this digest exists (HEAD). */
    public boolean blobExists(String hex) {
        Reply r = send("HEAD", "api/v1/blobs/sha256:" + hex, null, Repeat.SAFE);
        if (r.statusCode() == 200) return true;
        if (r.statusCode() == 404) return false;
        throw failure("HEAD blob sha256:" + hex, r);
    }

    /**
     * Streams {@code file} to {@code PUT /api/v1/blobs/sha256:<hex>}; the registry verifies the digest. Safe to
     * repeat: blobs are content-addressed, a repeat of a stored one is a 200.
     */
    public void putBlob(String hex, Path file, String mediaType) {
        HttpRequest req = request("api/v1/blobs/sha256:" + hex, transferTimeout).header("Content-Type", mediaType)
                .method("PUT", publisher(file)).build();
        Reply r = exchange(req, transferTimeout, Repeat.SAFE);
        if (r.statusCode() != 200 && r.statusCode() != 201) throw failure("PUT blob sha256:" + hex, r);
    }

    /**
     * Registers a variant; an existing identical one (same identity, same digest) is returned instead, which also
     * makes a repeat safe.
     */
    public Variant registerVariant(String model, int version, Registration reg, String hex) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("chip", reg.chip());
        body.put("deploymentTarget", reg.deploymentTarget());
        body.put("layout", reg.layout());
        body.put("precision", reg.precision());
        if (reg.blockSize() != null) body.put("blockSize", reg.blockSize());
        if (reg.quantization() != null) body.put("quantization", reg.quantization());
        body.put("seqLen", reg.seqLen());
        body.put("digest", "sha256:" + hex);
        String path = "api/v1/models/" + model + "/versions/" + version + "/variants";
        Reply r = send("POST", path, json(body), Repeat.SAFE);
        if (r.statusCode() == 201) return read(r, Variant.class);
        if (r.statusCode() == 409 && "variant-exists".equals(problem(r))) {
            Variant existing = variants(model, version).stream().filter(v -> matches(v, reg)).findFirst()
                    .orElseThrow(() -> failure("register variant", r));
            if (!existing.digest().equals("sha256:" + hex)) {
                throw new IllegalStateException("variant " + existing.id() + " of " + model + " v" + version
                        + " is registered with " + existing.digest() + " but this build produced sha256:" + hex
                        + "; builds must be deterministic");
            }
            return existing;
        }
        throw failure("register variant", r);
    }

    /**
     * Stores the version's golden inputs and outputs (both GoldenOutputsCodec blobs, already uploaded) so the
     * registry can release the version's accuracy and benchmark jobs to agents. Idempotent for the same digests.
     */
    public void setGolden(String model, int version, String inputsHex, String outputsHex) {
        String path = "api/v1/models/" + model + "/versions/" + version + "/golden";
        Reply r = send("PUT", path,
                json(Map.of("inputs", "sha256:" + inputsHex, "outputs", "sha256:" + outputsHex)), Repeat.SAFE);
        if (r.statusCode() != 200) throw failure("PUT golden of " + model + " v" + version, r);
    }

    public List<Variant> variants(String model, int version) {
        Reply r = send("GET", "api/v1/models/" + model + "/versions/" + version + "/variants", null, Repeat.SAFE);
        return List.of(read(r, Variant[].class));
    }

    private static boolean matches(Variant v, Registration reg) {
        return v.chip().equals(reg.chip()) && v.deploymentTarget().equals(reg.deploymentTarget())
                && v.layout().equals(reg.layout()) && v.precision().equals(reg.precision())
                && java.util.Objects.equals(v.blockSize(), reg.blockSize()) && v.seqLen() == reg.seqLen()
                && java.util.Objects.equals(quantization(v.blockSize(), v.quantization()),
                        quantization(reg.blockSize(), reg.quantization()));
    }

    /**
     * Block-wise variants without a quantization (a registry older than V5) were symmetric. Without a block size the
     * quantization is compared as it is: w8a8's affine activations (V35) against none, the symmetric ones.
     */
    private static String quantization(Integer blockSize, String quantization) {
        return blockSize == null || quantization != null ? quantization : "symmetric";
    }

    private static HttpRequest.BodyPublisher publisher(Path file) {
        try {
            return HttpRequest.BodyPublishers.ofFile(file);
        } catch (java.io.FileNotFoundException e) {
            throw new IllegalStateException("archive " + file + " vanished before upload", e);
        }
    }

    private HttpRequest.Builder request(String path, Duration timeout) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).header("Authorization", "Bearer " + token);
    }

    private static HttpRequest withBody(HttpRequest.Builder b, String method, byte[] body) {
        if (body != null) b.header("Content-Type", "application/json");
        return b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
    }

    /** A small JSON call with the request timeout. */
    private Reply send(String method, String path, byte[] body, Repeat repeat) {
        return exchange(withBody(request(path, requestTimeout), method, body), requestTimeout, repeat);
    }

    /**
     * Sends {@code req}, and again after a transient failure if {@code repeat} allows; returns the last answer
     * (which may still be a transient status: the caller's {@link #failure} marks it so).
     */
    private Reply exchange(HttpRequest req, Duration bodyTimeout, Repeat repeat) {
        String what = req.method() + " " + req.uri().getPath();
        for (int attempt = 0; ; attempt++) {
            boolean last = repeat == Repeat.ONCE || attempt >= retries;
            String trouble;
            try {
                long start = System.nanoTime();
                HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
                // The request timeout ends with the headers: the body gets what is left of the same timeout,
                // so the whole call (headers and body) ends within it — a heartbeat within its bound, not twice
                // that — and a registry or proxy that stalls or trickles mid-body fails the call instead of
                // holding the conversion while heartbeats keep its lease.
                Duration left = bodyTimeout.minusNanos(System.nanoTime() - start);
                byte[] body;
                try {
                    body = IdleTimeoutInputStream.readAll(r.body(),
                            BodyTimeout.answer(left.compareTo(MIN_BODY_TIME) < 0 ? MIN_BODY_TIME : left), req.uri());
                } catch (HttpTimeoutException e) {
                    HttpTimeoutException t = new HttpTimeoutException(req.uri() + " did not send its whole answer within "
                            + seconds(bodyTimeout) + " of the request (headers after "
                            + seconds(bodyTimeout.minus(left)) + "): " + e.getMessage());
                    t.initCause(e);
                    throw t;
                }
                Reply reply = new Reply(r.statusCode(), body, req, attempt + 1);
                if (last || !RegistryException.transientStatus(reply.statusCode())) return reply;
                trouble = "HTTP " + reply.statusCode();
            } catch (IOException e) {
                if (last) {
                    throw new RegistryException("registry at " + base + " is unreachable (" + what + ")"
                            + (attempt > 0 ? " after " + (attempt + 1) + " tries" : "") + ": " + e, 0, null, e);
                }
                trouble = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException("interrupted calling the registry (" + what + ")", 0, null, e);
            }
            Duration wait = retryBackoff.multipliedBy(1L << attempt);
            log.warn("{}: {}; trying again in {} ms ({} of {} retries)", what, trouble, wait.toMillis(), attempt + 1, retries);
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException("interrupted calling the registry (" + what + ")", 0, null, e);
            }
        }
    }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /** A response with its body read. */
    private record Reply(int statusCode, byte[] body, HttpRequest request, int tries) {
    }

    private static byte[] json(Object o) {
        return JSON.writeValueAsBytes(o);
    }

    private <T> T read(Reply r, Class<T> type) {
        if (r.statusCode() / 100 != 2) throw failure(r.request().method() + " " + r.request().uri().getPath(), r);
        return JSON.readValue(r.body(), type);
    }

    private static String problem(Reply r) {
        try {
            JsonNode n = JSON.readTree(r.body());
            String type = n.path("type").asString("");
            return type.isEmpty() ? null : type.substring(type.lastIndexOf('/') + 1);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static RegistryException failure(String what, Reply r) {
        String body = new String(r.body() == null ? new byte[0] : r.body(), StandardCharsets.UTF_8);
        String detail = body;
        try {
            detail = JSON.readTree(r.body()).path("detail").asString(body);
        } catch (RuntimeException ignored) {
            // not JSON: keep the raw body
        }
        return new RegistryException(what + " failed: HTTP " + r.statusCode() + ": " + detail, r.statusCode(), problem(r), null);
    }
}

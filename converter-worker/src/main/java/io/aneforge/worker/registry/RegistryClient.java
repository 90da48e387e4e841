package io.aneforge.worker.registry;

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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The worker's side of the registry REST API (bearer token with the worker role). {@link #TIMEOUT} bounds
 * each request until its response headers (a blob upload included) and, separately, each wait for bytes
 * of a response body: the JDK's request timeout does not cover the body.
 */
@Component
public class RegistryClient {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final Duration TIMEOUT = Duration.ofMinutes(10);

    private final URI base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public RegistryClient(WorkerProperties props) {
        String u = props.registryUrl().toString();
        this.base = URI.create(u.endsWith("/") ? u : u + "/");
        this.token = props.token();
    }

    public Optional<Lease> leaseNext(String worker) {
        Reply r = send("POST", "api/v1/conversions/lease", json(Map.of("worker", worker)), "application/json");
        if (r.statusCode() == 204) return Optional.empty();
        return Optional.of(read(r, Lease.class));
    }

    public Lease lease(long id, String worker) {
        return read(send("POST", "api/v1/conversions/" + id + "/lease", json(Map.of("worker", worker)), "application/json"),
                Lease.class);
    }

    public Lease heartbeat(long id, String leaseToken) {
        return read(send("POST", "api/v1/conversions/" + id + "/heartbeat", json(Map.of("leaseToken", leaseToken)),
                "application/json"), Lease.class);
    }

    public Conversion progress(long id, Progress p) {
        return read(send("POST", "api/v1/conversions/" + id + "/progress", json(p), "application/json"), Conversion.class);
    }

    public Conversion complete(long id, String leaseToken) {
        return read(send("POST", "api/v1/conversions/" + id + "/complete", json(Map.of("leaseToken", leaseToken)),
                "application/json"), Conversion.class);
    }

    public Conversion fail(long id, String leaseToken, String reason) {
        return read(send("POST", "api/v1/conversions/" + id + "/fail",
                json(Map.of("leaseToken", leaseToken, "reason", reason)), "application/json"), Conversion.class);
    }

    public Conversion conversion(long id) {
        return read(send("GET", "api/v1/conversions/" + id, null, null), Conversion.class);
    }

    /** Whether a verified blob with this digest exists (HEAD). */
    public boolean blobExists(String hex) {
        Reply r = send("HEAD", "api/v1/blobs/sha256:" + hex, null, null);
        if (r.statusCode() == 200) return true;
        if (r.statusCode() == 404) return false;
        throw failure("HEAD blob sha256:" + hex, r);
    }

    /** Streams {@code file} to {@code PUT /api/v1/blobs/sha256:<hex>}; the registry verifies the digest. */
    public void putBlob(String hex, Path file, String mediaType) {
        HttpRequest req = request("PUT", "api/v1/blobs/sha256:" + hex).header("Content-Type", mediaType)
                .method("PUT", publisher(file)).build();
        Reply r = exchange(req);
        if (r.statusCode() != 200 && r.statusCode() != 201) throw failure("PUT blob sha256:" + hex, r);
    }

    /** Registers a variant; an existing identical one (same identity, same digest) is returned instead. */
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
        Reply r = send("POST", path, json(body), "application/json");
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
                json(Map.of("inputs", "sha256:" + inputsHex, "outputs", "sha256:" + outputsHex)), "application/json");
        if (r.statusCode() != 200) throw failure("PUT golden of " + model + " v" + version, r);
    }

    public List<Variant> variants(String model, int version) {
        Reply r = send("GET", "api/v1/models/" + model + "/versions/" + version + "/variants", null, null);
        return List.of(read(r, Variant[].class));
    }

    private static boolean matches(Variant v, Registration reg) {
        return v.chip().equals(reg.chip()) && v.deploymentTarget().equals(reg.deploymentTarget())
                && v.layout().equals(reg.layout()) && v.precision().equals(reg.precision())
                && java.util.Objects.equals(v.blockSize(), reg.blockSize()) && v.seqLen() == reg.seqLen()
                && java.util.Objects.equals(quantization(v.blockSize(), v.quantization()),
                        quantization(reg.blockSize(), reg.quantization()));
    }

    /** Block-wise variants without a quantization (a registry older than V5) were symmetric. */
    private static String quantization(Integer blockSize, String quantization) {
        return blockSize == null ? null : quantization == null ? "symmetric" : quantization;
    }

    private static HttpRequest.BodyPublisher publisher(Path file) {
        try {
            return HttpRequest.BodyPublishers.ofFile(file);
        } catch (java.io.FileNotFoundException e) {
            throw new IllegalStateException("archive " + file + " vanished before upload", e);
        }
    }

    private HttpRequest.Builder request(String method, String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT)
                .header("Authorization", "Bearer " + token);
    }

    private Reply send(String method, String path, byte[] body, String contentType) {
        HttpRequest.Builder b = request(method, path);
        if (contentType != null) b.header("Content-Type", contentType);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return exchange(b.build());
    }

    private Reply exchange(HttpRequest req) {
        try {
            HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            // The request timeout ends with the headers: read the body with a deadline of its own, so a
            // registry or proxy that stalls mid-body fails the call instead of hanging the conversion.
            return new Reply(r.statusCode(), IdleTimeoutInputStream.readAll(r.body(), TIMEOUT, req.uri()), req);
        } catch (IOException e) {
            throw new RegistryException("registry at " + base + " is unreachable (" + req.method() + " " + req.uri().getPath()
                    + "): " + e, 0, null, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted calling the registry", 0, null, e);
        }
    }

    /** A response with its body read. */
    private record Reply(int statusCode, byte[] body, HttpRequest request) {
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

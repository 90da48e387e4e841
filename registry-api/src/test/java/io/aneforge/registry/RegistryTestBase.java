package io.aneforge.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.postgres.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Boots the whole registry once (shared Spring context) on a random port against this JVM's fresh
 * PostgreSQL database and the embedded S3 server, and talks to it over real HTTP.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class RegistryTestBase {

    public static final String ADMIN = "test-admin-token-0123456789";
    protected static final long MAX_BLOB = 1024 * 1024;
    /** aneforge.conversions.free-releases of the test registry. */
    protected static final int FREE_RELEASES = 4;
    /** aneforge.data-dir: the embedded S3 server's files are under {@code s3/aneforge/}. */
    protected static final Path DATA_DIR;
    private static final Map<String, String> TOKENS = new ConcurrentHashMap<>();
    protected static final JsonMapper JSON = JsonMapper.builder().build();

    static {
        try {
            DATA_DIR = Files.createTempDirectory("aneforge-registry-test");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** aneforge.download-signing-key: 32 bytes, base64 (signed download URLs are on in the test registry). */
    protected static final String SIGNING_KEY = "c2lnbmVkLWRvd25sb2FkLXRlc3Qta2V5LTMyLWJ5dGVzIQ==";

    /** Where tests' local sources may come from (aneforge.sources.local-roots). */
    protected static final String LOCAL_ROOTS = "/srv/snapshots,/data/models";

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry r) {
        TestDatabase.springProperties().forEach((k, v) -> r.add(k, () -> v));
        r.add("aneforge.data-dir", DATA_DIR::toString);
        r.add("aneforge.admin-token", () -> ADMIN);
        r.add("aneforge.download-signing-key", () -> SIGNING_KEY);
        r.add("aneforge.sources.local-roots", () -> LOCAL_ROOTS);
        r.add("aneforge.blobs.max-size", () -> MAX_BLOB);
        // Short leases so expiry and re-queueing are observable within a test.
        r.add("aneforge.agents.lease-duration", () -> "2s");
        r.add("aneforge.jobs.sweep-interval", () -> "200ms");
        // Refused writes are written by their reads and by the tests: never between a refusal and a test's check.
        r.add("aneforge.audit.refusal-flush-interval", () -> "1h");
        // Not the default (10): ConversionTest shows the setting is what bounds the free releases.
        r.add("aneforge.conversions.free-releases", () -> FREE_RELEASES);
        // A package whose blob could not be read is counted again after this (10 s by default).
        r.add("aneforge.matrix.estimate-retry-after", () -> "300ms");
    }

    @LocalServerPort
    protected int port;

    protected final HttpClient http = HttpClient.newHttpClient();

    public record Response(int status, Map<String, java.util.List<String>> headers, byte[] body) {
        public JsonNode json() {
            return JSON.readTree(body);
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }

        /** The problem type slug of a problem+json body. */
        public String problem() {
            String type = json().path("type").asString();
            return type.substring(type.lastIndexOf('/') + 1);
        }
    }

    protected Response send(String method, String path, String token, Object body, String... headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
            if (token != null) b.header("Authorization", "Bearer " + token);
            HttpRequest.BodyPublisher pub;
            if (body == null) {
                pub = HttpRequest.BodyPublishers.noBody();
            } else if (body instanceof byte[] bytes) {
                pub = HttpRequest.BodyPublishers.ofByteArray(bytes);
                b.header("Content-Type", "application/octet-stream");
            } else {
                pub = HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body));
                b.header("Content-Type", "application/json");
            }
            // setHeader: a test's header replaces the default Content-Type above rather than adding a second one.
            for (int i = 0; i < headers.length; i += 2) b.setHeader(headers[i], headers[i + 1]);
            b.method(method, pub);
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), r.headers().map(), r.body());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(method + " " + path + ": " + e, e);
        }
    }

    protected Response get(String path, String token, String... headers) {
        return send("GET", path, token, null, headers);
    }

    /** A token for {@code role} (minted once per JVM through the API). */
    protected String token(String role) {
        if (role.equals("admin")) return ADMIN;
        return TOKENS.computeIfAbsent(role, r -> {
            Response res = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", "test-" + r, "role", r));
            assertThat(res.status()).as(res.text()).isEqualTo(201);
            return res.json().path("token").asString();
        });
    }

    protected String publisher() {
        return token("publisher");
    }

    protected String reader() {
        return token("reader");
    }

    protected void createModel(String name) {
        Response r = send("POST", "/api/v1/models", publisher(), Map.of("name", name, "task", "feature-extraction"));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
    }

    protected int createVersion(String model) {
        Response r = send("POST", "/api/v1/models/" + model + "/versions", publisher(), Map.of("source", Map.of("type", "upload")));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json().path("version").asInt();
    }

    /** A new {@code model} with its first version, a draft; answers the version. */
    protected int createModelAndVersion(String model) {
        createModel(model);
        return createVersion(model);
    }

    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Uploads bytes and returns "sha256:<hex>". */
    protected String upload(byte[] data) {
        String hex = sha256(data);
        Response r = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), data);
        assertThat(r.status()).as(r.text()).isIn(200, 201);
        return "sha256:" + hex;
    }

    /** A small zipped .mlpackage for seqLen 128; {@code salt} makes its digest unique. */
    public static byte[] mlpackage(String salt) {
        return mlpackage(salt, 128);
    }

    /**
     * A real, tiny zipped .mlpackage written by ane-core (one cast of {@code input_ids [1, seqLen]}, no weights,
     * iOS 15, so it loads on every deployment target a test declares); {@code salt} (metadata) makes its digest unique.
     */
    public static byte[] mlpackage(String salt, int seqLen) {
        return mlpackage(Target.IOS15, seqLen, Map.of("salt", salt));
    }

    /** {@link #mlpackage(String, int)} for {@code target}, with {@code metadata} (Core ML's userDefined). */
    public static byte[] mlpackage(Target target, int seqLen, Map<String, String> metadata) {
        return mlpackage(target, seqLen, metadata, "out");
    }

    /** As above, its one output named {@code output} (a head's {@code logits}, say). */
    public static byte[] mlpackage(Target target, int seqLen, Map<String, String> metadata, String output) {
        try {
            MilBuilder b = new MilBuilder(target);
            metadata.forEach(b::metadata);
            Var ids = b.input("input_ids", DType.INT32, 1, seqLen);
            Path dir = Files.createTempDirectory("registry-pkg").resolve("Model.mlpackage");
            MlPackage.write(b.build(b.named(output).cast(ids, DType.FP32)), dir);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PackageArchive.zip(dir, out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] zip(String... namesAndContents) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (int i = 0; i < namesAndContents.length; i += 2) {
                z.putNextEntry(new ZipEntry(namesAndContents[i]));
                z.write(namesAndContents[i + 1].getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    protected Response registerVariant(String model, int version, String chip, String target, String layout,
                                       String precision, String digest) {
        return send("POST", "/api/v1/models/" + model + "/versions/" + version + "/variants", publisher(),
                Map.of("chip", chip, "deploymentTarget", target, "layout", layout, "precision", precision,
                        "seqLen", 128, "digest", digest));
    }

    protected void addVariant(String model, int version, String chip, String target, String layout, String precision) {
        Response r = registerVariant(model, version, chip, target, layout, precision,
                upload(mlpackage(model + version + chip + target + layout + precision)));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
    }

    /** Publishes a draft that has golden data ({@link #setGolden}): a draft without it is refused (409 golden-data-missing). */
    protected void publish(String model, int version) {
        Response r = send("POST", "/api/v1/models/" + model + "/versions/" + version + "/publish", publisher(), null);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
    }

    /**
     * The audit trail's events for one request (GET /api/v1/audit?requestId=), newest first: a test sends its
     * write with its own {@code X-Request-Id} and reads back what the write recorded.
     */
    protected java.util.List<JsonNode> auditEvents(String requestId) {
        Response r = get("/api/v1/audit?requestId=" + java.net.URLEncoder.encode(requestId, StandardCharsets.UTF_8), ADMIN);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        java.util.List<JsonNode> events = new java.util.ArrayList<>();
        r.json().path("events").forEach(events::add);
        return events;
    }

    /** The one audit event {@code requestId} recorded, after checking its action and actor. */
    protected JsonNode auditEvent(String requestId, String action, String actor) {
        java.util.List<JsonNode> events = auditEvents(requestId);
        assertThat(events).as("audit events of request " + requestId).hasSize(1);
        JsonNode e = events.get(0);
        assertThat(e.path("action").asString()).isEqualTo(action);
        assertThat(e.path("actor").asString()).isEqualTo(actor);
        assertThat(e.path("requestId").asString()).isEqualTo(requestId);
        return e;
    }

    /**
     * Publishes a draft without golden data, as its publisher's explicit choice: for tests about what publishing
     * enables (resolve, aliases, yanks) rather than about its jobs, which this cancels (accuracy not checked).
     */
    protected void publishWithoutGoldenData(String model, int version) {
        Response r = send("POST", "/api/v1/models/" + model + "/versions/" + version + "/publish", publisher(),
                Map.of("withoutGoldenData", true, "reason", "test of publishing, not of accuracy"));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
    }

    /** AFGO bytes of one sample with one tensor named {@code name}. */
    public static byte[] goldenBlob(String name, float... values) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            GoldenOutputsCodec.write(new GoldenOutputs(List.of(GoldenOutputs.Sample.of("0",
                    Map.of(name, new FloatTensor(new int[] {1, 1, values.length}, values))))), out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Uploads a small golden inputs/outputs pair and sets it on the draft (PUT .../golden). */
    protected void setGolden(String model, int version) {
        String in = upload(goldenBlob("input_ids", 101, 2023, 102, 0));
        String out = upload(goldenBlob("last_hidden_state", 0.5f, -0.25f, 1f, 2f));
        Response r = send("PUT", "/api/v1/models/" + model + "/versions/" + version + "/golden", publisher(),
                Map.of("inputs", in, "outputs", out));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
    }

    protected Response moveAlias(String model, String alias, int version, String reason) {
        return send("PUT", "/api/v1/models/" + model + "/aliases/" + alias, publisher(),
                Map.of("version", version, "reason", reason));
    }

    /**
     * A new {@code model} whose first version holds one variant per entry of {@code variants}, each
     * {@code "chip target layout precision"} as {@link #addVariant} takes them, published without golden data (a test
     * of serving, not of accuracy) and aliased {@code production} with {@code reason}. Answers the version.
     */
    protected int inProduction(String model, String reason, String... variants) {
        int v = createModelAndVersion(model);
        for (String variant : variants) {
            String[] f = variant.split(" ");
            if (f.length != 4) {
                throw new IllegalArgumentException("variant '" + variant + "' is not 'chip target layout precision',"
                        + " e.g. 'A17_PRO 18.0 ane fp16'");
            }
            addVariant(model, v, f[0], f[1], f[2], f[3]);
        }
        publishWithoutGoldenData(model, v);
        moveProductionTo(model, v, reason);
        return v;
    }

    /** Moves alias {@code production} to {@code version} with {@code reason}, which must succeed. */
    protected void moveProductionTo(String model, int version, String reason) {
        Response moved = moveAlias(model, "production", version, reason);
        assertThat(moved.status()).as(moved.text()).isEqualTo(200);
    }
}

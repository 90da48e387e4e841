package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryApplication;
import io.aneforge.testsupport.hub.FakeHub;
import io.aneforge.testsupport.postgres.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The end-to-end stack, started once per JVM: the real registry (this JVM's fresh PostgreSQL database,
 * its embedded S3 server) on a random port, and a FakeHub serving test models. Workers are started per
 * test, in this JVM or as separate processes.
 */
final class Stack {

    static final String ADMIN = "e2e-admin-token-0123456789";
    static final JsonMapper JSON = JsonMapper.builder().build();
    private static Stack instance;

    final Path root;
    final FakeHub hub;
    final ConfigurableApplicationContext registry;
    final String url;
    final String workerToken;
    final String publisherToken;
    /**
     * The workers' job repository: a database and role of their own (no superuser, no access to the registry's
     * tables), as docker-compose and the Helm chart give them, so every worker test runs with least privilege.
     */
    final TestDatabase workerDb;
    private final HttpClient http = HttpClient.newHttpClient();

    static synchronized Stack get() {
        if (instance == null) instance = new Stack();
        return instance;
    }

    private Stack() {
        try {
            root = Files.createTempDirectory("aneforge-worker-e2e");
            hub = FakeHub.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Object> p = new LinkedHashMap<>(TestDatabase.springProperties());
        p.put("server.port", 0);
        p.put("aneforge.data-dir", root.resolve("registry").toString());
        p.put("aneforge.admin-token", ADMIN);
        // local sources of these tests (snapshots, missing directories) are temporary directories
        p.put("aneforge.sources.local-roots", Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize().toString());
        p.put("aneforge.cache-ttl", "0s");
        p.put("spring.batch.job.enabled", false);
        p.put("spring.application.name", "e2e-registry");
        // The worker's application.yml comes first on this classpath: point the registry at its own.
        p.put("spring.config.location", registryConfig());
        registry = new SpringApplicationBuilder(RegistryApplication.class).run(args(p));
        workerDb = TestDatabase.ofOwnUser("worker");
        url = "http://127.0.0.1:" + registry.getEnvironment().getProperty("local.server.port");
        workerToken = mint("worker");
        publisherToken = mint("publisher");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            registry.close();
            hub.close();
        }));
    }

    /** Command-line arguments: they outrank every application.yml on the classpath. */
    static String[] args(Map<String, ?> props) {
        return props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
    }

    private String registryConfig() {
        try {
            Path where = Path.of(RegistryApplication.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path yml = root.resolve("registry-application.yml");
            if (Files.isDirectory(where)) {
                Files.copy(where.resolve("application.yml"), yml);
            } else {
                try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(where.toFile())) {
                    Files.copy(z.getInputStream(z.getEntry("application.yml")), yml);
                }
            }
            return "file:" + yml;
        } catch (Exception e) {
            throw new IllegalStateException("cannot locate the registry's application.yml", e);
        }
    }

    private String mint(String role) {
        Res r = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", "e2e-" + role, "role", role));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json().path("token").asString();
    }

    record Res(int status, byte[] body) {
        JsonNode json() {
            return JSON.readTree(body);
        }

        String text() {
            return new String(body);
        }
    }

    Res send(String method, String path, String token, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", "Bearer " + token);
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Res(r.statusCode(), r.body());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(method + " " + path + ": " + e, e);
        }
    }

    JsonNode get(String path) {
        Res r = send("GET", path, publisherToken, null);
        assertThat(r.status()).as(path + ": " + r.text()).isEqualTo(200);
        return r.json();
    }

    /** Serves the snapshot directory {@code dir} as {@code repo} at commit {@code sha} (ref main). */
    void serve(String repo, String sha, Path dir) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        hub.repo(repo).commit(sha, "main", files);
    }

    /** Creates {@code model} (if needed) and publishes a version converting {@code source}; returns the conversion. */
    JsonNode publish(String model, Map<String, Object> source, List<String> chips, int seqLen) {
        return publish(model, source, chips, seqLen, null);
    }

    /** With {@code recipe} (a built-in name or recipe YAML; null: the registry's default). */
    JsonNode publish(String model, Map<String, Object> source, List<String> chips, int seqLen, String recipe) {
        Res m = send("POST", "/api/v1/models", publisherToken, Map.of("name", model, "task", "feature-extraction"));
        assertThat(m.status()).as(m.text()).isIn(201, 409);
        Map<String, Object> body = new LinkedHashMap<>(Map.of("source", source, "chips", chips, "seqLen", seqLen));
        if (recipe != null) body.put("recipe", recipe);
        Res v = send("POST", "/api/v1/models/" + model + "/versions", publisherToken, body);
        assertThat(v.status()).as(v.text()).isEqualTo(201);
        return get("/api/v1/models/" + model + "/versions/" + v.json().path("version").asInt() + "/conversion");
    }

    JsonNode publishHub(String model, String repo, List<String> chips, int seqLen) {
        return publish(model, Map.of("type", "hub", "repo", repo, "revision", "main"), chips, seqLen);
    }

    /** Polls the conversion until it reaches one of {@code states}. */
    JsonNode await(long id, Duration timeout, String... states) {
        long end = System.nanoTime() + timeout.toNanos();
        JsonNode c;
        do {
            c = get("/api/v1/conversions/" + id);
            if (Set.of(states).contains(c.path("state").asString())) return c;
            sleep(100);
        } while (System.nanoTime() < end);
        throw new AssertionError("conversion " + id + " did not reach " + List.of(states) + " in " + timeout + ": " + c);
    }

    /** Worker properties for an in-process worker or (as environment variables) a worker process. */
    Map<String, String> workerEnv(String id, int concurrency) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SPRING_DATASOURCE_URL", workerDb.url());
        env.put("SPRING_DATASOURCE_USERNAME", workerDb.user());
        env.put("SPRING_DATASOURCE_PASSWORD", workerDb.userPassword());
        env.put("SPRING_FLYWAY_ENABLED", "false");
        env.put("SERVER_PORT", "0");
        env.put("ANEFORGE_REGISTRY_URL", url);
        env.put("ANEFORGE_WORKER_TOKEN", workerToken);
        env.put("ANEFORGE_WORKER_ID", id);
        env.put("ANEFORGE_WORKER_CONCURRENCY", Integer.toString(concurrency));
        env.put("ANEFORGE_WORKER_WORK_DIR", root.resolve("work-" + id).toString());
        env.put("ANEFORGE_WORKER_POLL_INTERVAL", "200ms");
        env.put("HF_ENDPOINT", hub.endpoint());
        env.put("HF_HOME", root.resolve("hf-" + id).toString());
        // the registry's roots: the worker checks the real paths of the same directories
        env.put("ANEFORGE_SOURCES_LOCAL_ROOTS", Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize().toString());
        return env;
    }

    /** A worker in this JVM (environment variables passed as properties of the same names). */
    ConfigurableApplicationContext startWorker(String id, int concurrency) {
        return startWorker(id, concurrency, Map.of());
    }

    ConfigurableApplicationContext startWorker(String id, int concurrency, Map<String, String> overrides) {
        Map<String, String> env = new LinkedHashMap<>(workerEnv(id, concurrency));
        env.putAll(overrides);
        Map<String, Object> p = new LinkedHashMap<>();
        env.forEach((k, v) ->
                p.put(k.startsWith("SPRING_") || k.startsWith("SERVER_") ? k.toLowerCase().replace('_', '.') : k, v));
        p.put("spring.application.name", "e2e-worker-" + id);
        return new SpringApplicationBuilder(WorkerApplication.class).run(args(p));
    }

    /** A worker as a separate JVM (for kill -9), logging to {@code <root>/<id>.log}. */
    Process startWorkerProcess(String id, int concurrency) throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", cp, WorkerApplication.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(id + ".log").toFile()));
        pb.environment().putAll(workerEnv(id, concurrency));
        return pb.start();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

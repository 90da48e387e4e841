package io.aneforge.cli.up;

import io.aneforge.cli.AneForge;
import io.aneforge.cli.ChipsOption;
import io.aneforge.cli.CommandFailure;
import io.aneforge.cli.UsageException;
import io.aneforge.cli.registry.RegistryClient;
import io.aneforge.cli.registry.RegistryException;
import io.aneforge.source.MiniLmSnapshot;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code aneforge up}: registry + converter worker + reference-cpu device agent as child processes, the
 * demo model published and checked, then READY; runs until Ctrl-C (or SIGTERM), which stops every child.
 * Everything lives under {@code --home} (default {@code ./.aneforge}): {@code data/} (embedded S3 store,
 * admin and role tokens, demo snapshot), {@code logs/} (one log per child), {@code worker/}, {@code agent-cache/}.
 * A second run reuses the data: the demo version is not published again when one is already READY.
 */
@Command(name = "up", sortOptions = false, mixinStandardHelpOptions = true,
        // Each line a whole sentence under 80 columns: `aneforge --help` lists a command by its first line only, and
        // picocli wraps longer lines wherever the width ends (the old first line ended "…, publish the").
        description = {"Start a local ANE Forge (registry, converter worker, reference-cpu agent).",
            "Then publish the all-MiniLM-L6-v2 demo model and wait until it is READY",
            "(converted and checked). Ctrl-C stops everything.",
            "PostgreSQL: SPRING_DATASOURCE_URL, else",
            "jdbc:postgresql://127.0.0.1:5432/<--database> (created if missing)."})
public final class UpCommand implements Callable<Integer> {

    static final String ROOT_PROPERTY = "aneforge.root";
    /** The registry name of the demo model, sentence-transformers/all-MiniLM-L6-v2 ({@link MiniLmSnapshot}). */
    static final String DEMO_MODEL = "all-minilm-l6-v2";
    static final String DEMO_DEVICE = "iPhone16,1";
    /**
     * The demo model's gates: cosine only. The reference-cpu agent measures every variant's cosine (the default
     * recipe's MiniLM variants reach 0.998 and above, docs/converter.md), while a latency or size limit would stay
     * INCOMPLETE without a Mac agent; so the first matrix shows a PASS (or a FAIL with its reason), not NO_GATES.
     */
    static final double DEMO_MIN_COSINE = 0.99;

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    @Option(names = "--home", defaultValue = ".aneforge", paramLabel = "<dir>",
            description = "State directory: data/, logs/, worker/, agent-cache/ (default: ${DEFAULT-VALUE}).")
    Path home;

    @Option(names = "--port", defaultValue = "8080", description = "Registry HTTP port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--worker-port", defaultValue = "8081", description = "Converter worker actuator port (default: ${DEFAULT-VALUE}).")
    int workerPort;

    @Option(names = "--address", defaultValue = "${env:ANEFORGE_UP_ADDRESS:-127.0.0.1}", paramLabel = "<ip>",
            description = {"Address the registry and the worker's actuator listen on (default: ${DEFAULT-VALUE}, this machine",
                "only; env ANEFORGE_UP_ADDRESS). 0.0.0.0 listens on every interface: anyone who can reach it may try the API."})
    String address;

    @Option(names = "--database", defaultValue = "aneforge", paramLabel = "NAME",
            description = "Database on 127.0.0.1:5432 when SPRING_DATASOURCE_URL is unset (default: ${DEFAULT-VALUE}).")
    String database;

    @Option(names = "--chips", split = ",", defaultValue = "A17_PRO", paramLabel = "CHIP",
            description = "Chips the demo model is converted for (default: ${DEFAULT-VALUE}, the chip of iPhone16,1).")
    List<String> chips;

    @Option(names = "--timeout", defaultValue = "60", paramLabel = "MINUTES",
            description = "Give up when the demo model is not READY after this long (default: ${DEFAULT-VALUE}).")
    long timeoutMinutes;

    @Option(names = "--root", paramLabel = "<dir>", description = "Repository root holding the built jars (the script sets it).")
    Path repoRoot;

    /** {@code <home>/logs}, named in failure messages. */
    private Path logs;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        // Before the lock, the database and the children: a typo here used to surface ~50 s later as the registry's 422.
        checkOptions();
        Path homeDir = home.toAbsolutePath().normalize();
        // First the directory's lock (a second run in it fails here, before it could take the ports of the first
        // while that one's registry is still starting), then the ports (runs in other directories).
        try (HomeLock lock = HomeLock.acquire(homeDir)) {
            InetAddress listen = listenAddress(address);
            checkPorts(listen, port, workerPort);
            return run(out, homeDir, listen);
        }
    }

    /** The options checked before anything is created or started. */
    void checkOptions() {
        ChipsOption.refuseEmptyEntries(spec);
        chips = ChipsOption.canonical(chips);
        ChipsOption.refuseUnknown(chips);
        if (timeoutMinutes < 1) {
            throw new UsageException("--timeout must be at least 1 (minutes to wait for the demo model), got " + timeoutMinutes);
        }
    }

    private int run(PrintWriter out, Path homeDir, InetAddress listen) throws Exception {
        Map<String, String> env = System.getenv();
        Path repo = repoRoot != null ? repoRoot : Path.of(System.getProperty(ROOT_PROPERTY, "."));
        logs = homeDir.resolve("logs");
        Path data = homeDir.resolve("data");
        Files.createDirectories(data);
        Jars jars = Jars.find(repo.toAbsolutePath().normalize());

        String adminToken = adminToken(env, data);
        String dbUrl = env.getOrDefault("SPRING_DATASOURCE_URL", "jdbc:postgresql://127.0.0.1:5432/" + database);
        if (!database.matches("[A-Za-z0-9_-]+")) throw new UsageException("--database '" + database + "': use letters, digits, - and _");
        if (Database.ensure(dbUrl, env.getOrDefault("SPRING_DATASOURCE_USERNAME", "postgres"),
                env.getOrDefault("SPRING_DATASOURCE_PASSWORD", ""))) {
            out.println("created database " + dbUrl);
        }
        String base = "http://" + urlHost(listen) + ":" + port;
        long deadline = System.nanoTime() + Duration.ofMinutes(timeoutMinutes).toNanos();

        Children children = new Children(logs, out, 40_000);
        Thread hook = new Thread(children::close, "aneforge-up-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Map<String, String> common = new LinkedHashMap<>();
            common.put("SPRING_DATASOURCE_URL", dbUrl);
            Map<String, String> reg = new LinkedHashMap<>(common);
            reg.putAll(serverEnvironment(listen, port));
            reg.put("ANEFORGE_ADMIN_TOKEN", adminToken);
            reg.put("ANEFORGE_DATA_DIR", data.toString());
            reg.put("ANEFORGE_S3_ENDPOINT", "");
            // the demo's local source (below) and whatever the caller already allows; the worker checks the same
            // roots again on its file system (real paths)
            String demoRoot = data.resolve("demo").toAbsolutePath().normalize().toString();
            String roots = env.getOrDefault("ANEFORGE_SOURCES_LOCAL_ROOTS", "");
            String localRoots = roots.isBlank() ? demoRoot : roots + "," + demoRoot;
            reg.put("ANEFORGE_SOURCES_LOCAL_ROOTS", localRoots);
            children.start("registry", java(jars.registry()), reg, homeDir);
            waitForRegistry(base, children, deadline, out);

            RegistryClient admin = new RegistryClient(URI.create(base), adminToken);
            String workerToken = roleToken(admin, base, data, "worker");
            String agentToken = roleToken(admin, base, data, "agent");

            Map<String, String> worker = new LinkedHashMap<>(common);
            worker.putAll(serverEnvironment(listen, workerPort));
            worker.put("ANEFORGE_REGISTRY_URL", base);
            worker.put("ANEFORGE_WORKER_TOKEN", workerToken);
            worker.put("ANEFORGE_WORKER_ID", "aneforge-up-worker");
            worker.put("ANEFORGE_WORKER_WORK_DIR", homeDir.resolve("worker").toString());
            worker.put("ANEFORGE_WORKER_POLL_INTERVAL", "2s");
            worker.put("ANEFORGE_WORKER_CONCURRENCY", env.getOrDefault("ANEFORGE_WORKER_CONCURRENCY", "1"));
            worker.put("ANEFORGE_SOURCES_LOCAL_ROOTS", localRoots);
            children.start("converter-worker", java(jars.worker()), worker, homeDir);

            Map<String, String> agent = new LinkedHashMap<>();
            agent.put("ANEFORGE_AGENT_REGISTRY_URL", base);
            agent.put("ANEFORGE_AGENT_REGISTRY_TOKEN", agentToken);
            agent.put("ANEFORGE_AGENT_RUNTIMES", "reference-cpu");
            agent.put("ANEFORGE_AGENT_CACHE_DIR", homeDir.resolve("agent-cache").toString());
            agent.put("ANEFORGE_AGENT_CACHE_MAX_SIZE", "5GB");
            agent.put("ANEFORGE_AGENT_POLL_INTERVAL", "10s");
            agent.put("ANEFORGE_AGENT_DRAIN_TIMEOUT", "20s");
            children.start("device-agent", java(jars.agent()), agent, homeDir);

            Path snapshot = MiniLmSnapshot.write(data.resolve("demo/" + DEMO_MODEL));
            int version = publishDemo(admin, snapshot, out);
            waitUntilReady(admin, version, children, deadline, out);
            promote(admin, version, out);

            out.println();
            out.println("READY");
            out.println("  registry:   " + base + (listen.isAnyLocalAddress()
                    ? "  (listening on every interface, --address " + listen.getHostAddress() + ")" : ""));
            out.println("  matrix UI:  " + base + "/ui/  (paste the admin token; model " + DEMO_MODEL + ", version " + version + ")");
            out.println("  admin token: " + adminToken);
            out.println("  resolve:    curl -H 'Authorization: Bearer " + adminToken + "' '" + base + "/api/v1/models/"
                    + DEMO_MODEL + "/resolve?device=" + DEMO_DEVICE + "&os=18.0'");
            out.println("  logs:       " + homeDir.resolve("logs"));
            out.println("Press Ctrl-C to stop.");
            out.flush();
            while (true) {
                Optional<Children.Child> dead = children.exited();
                if (dead.isPresent()) {
                    throw new CommandFailure(dead.get().name() + " exited with code " + dead.get().process().exitValue()
                            + ": see " + dead.get().log() + "; run aneforge up again to restart everything");
                }
                Thread.sleep(1000);
            }
        } finally {
            children.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Already in the hook (Ctrl-C): it stops the children; nothing to remove.
            }
        }
    }

    /**
     * The address the registry and the worker listen on ({@code --address}): an IP literal of this machine, or
     * a wildcard (0.0.0.0, ::) for every interface. The default is the loopback address, since the registry
     * takes the admin token and the machine's network need not reach it.
     */
    static InetAddress listenAddress(String address) {
        String a = address == null ? "" : address.trim();
        if (a.startsWith("[") && a.endsWith("]")) a = a.substring(1, a.length() - 1);
        InetAddress ip;
        try {
            // Only literals (a name would be looked up, and could stand for another machine).
            if (!a.matches("\\d{1,3}(\\.\\d{1,3}){3}") && !a.contains(":")) throw new UnknownHostException(a);
            ip = InetAddress.getByName(a); // an IP literal: no name lookup
        } catch (UnknownHostException e) {
            throw new UsageException("--address '" + address + "' is not an IP address: pass one of this machine's, e.g. "
                    + "127.0.0.1 (the default) or 0.0.0.0 for every interface");
        }
        if (!ip.isAnyLocalAddress()) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(ip, 0));
            } catch (IOException e) {
                throw new UsageException("--address " + ip.getHostAddress() + " is not an address of this machine ("
                        + e.getMessage() + "): pass one of its addresses, 127.0.0.1 (the default) or 0.0.0.0");
            }
        }
        return ip;
    }

    /** Where a Spring Boot child (registry, worker actuator) listens: {@code --address} and its port. */
    static Map<String, String> serverEnvironment(InetAddress listen, int port) {
        return Map.of("SERVER_ADDRESS", listen.getHostAddress(), "SERVER_PORT", Integer.toString(port));
    }

    /** The host part of the URL up itself calls the registry at: the loopback address for a wildcard. */
    static String urlHost(InetAddress listen) {
        if (listen.isAnyLocalAddress()) return listen instanceof Inet6Address ? "[::1]" : "127.0.0.1";
        String h = listen.getHostAddress();
        return listen instanceof Inet6Address ? "[" + h.replaceAll("%.*", "") + "]" : h;
    }

    /** As {@link #checkPorts(InetAddress, int, int)} on the loopback address. */
    static void checkPorts(int registryPort, int workerActuatorPort) {
        checkPorts(InetAddress.getLoopbackAddress(), registryPort, workerActuatorPort);
    }

    /**
     * Before anything starts: both ports valid, distinct and free. A port taken by another {@code up} would
     * otherwise have this run talk to that run's registry (and append to its logs).
     */
    static void checkPorts(InetAddress listen, int registryPort, int workerActuatorPort) {
        for (int p : new int[] {registryPort, workerActuatorPort}) {
            if (p < 1 || p > 65535) {
                throw new UsageException("port " + p + " is not a port number (1..65535): pass another --port/--worker-port");
            }
        }
        if (registryPort == workerActuatorPort) {
            throw new UsageException("--port and --worker-port are both " + registryPort + ": pass two different ports");
        }
        for (int p : new int[] {registryPort, workerActuatorPort}) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true); // a port left in TIME_WAIT by a stopped run is free
                s.bind(new InetSocketAddress(listen, p));
            } catch (IOException e) {
                throw new UsageException("port " + p + " is in use (another aneforge up?): stop it or pass --port/--worker-port");
            }
        }
    }

    /** The three application jars (Spring Boot {@code -exec} jars); the script builds them when missing or stale. */
    record Jars(Path registry, Path worker, Path agent) {
        static Jars find(Path repo) throws IOException {
            return new Jars(jar(repo, "registry-api"), jar(repo, "converter-worker"), jar(repo, "device-agent"));
        }

        private static Path jar(Path repo, String module) throws IOException {
            Path target = repo.resolve(module).resolve("target");
            if (Files.isDirectory(target)) {
                try (Stream<Path> s = Files.list(target)) {
                    Optional<Path> jar = s.filter(p -> p.getFileName().toString().endsWith("-exec.jar")).findFirst();
                    if (jar.isPresent()) return jar.get();
                }
            }
            throw new CommandFailure("no " + module + "/target/*-exec.jar under " + repo + ": build it with "
                    + "./mvnw -B -ntp -pl registry-api,converter-worker,device-agent -am package -DskipTests "
                    + "(./aneforge up does this itself)");
        }
    }

    private static List<String> java(Path jar) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The Vector API kernels (reference runtime GEMM, quantizer) for the worker and the agent;
        // harmless for the registry. -Daneforge.vector=false in ANEFORGE_CHILD_JAVA_OPTS turns them off.
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        String opts = System.getenv("ANEFORGE_CHILD_JAVA_OPTS");
        if (opts != null && !opts.isBlank()) cmd.addAll(List.of(opts.trim().split("\\s+")));
        cmd.add("-jar");
        cmd.add(jar.toString());
        return cmd;
    }

    /** ANEFORGE_ADMIN_TOKEN, else the token stored in {@code data/admin-token}, else a new one stored there. */
    static String adminToken(Map<String, String> env, Path data) throws IOException {
        String given = env.get("ANEFORGE_ADMIN_TOKEN");
        if (given != null && !given.isBlank()) return given.trim();
        Path file = data.resolve("admin-token");
        if (Files.isRegularFile(file)) return Files.readString(file, StandardCharsets.UTF_8).trim();
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        String token = "afadm_" + HexFormat.of().formatHex(bytes);
        writeSecret(file, token);
        return token;
    }

    private static void writeSecret(Path file, String value) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, value + "\n", StandardCharsets.UTF_8);
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException notPosix) {
            // Windows: the directory's ACL applies.
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** A token with {@code role}, kept in {@code data/<role>-token}; minted (again) when missing or no longer valid. */
    private String roleToken(RegistryClient admin, String base, Path data, String role) throws IOException {
        Path file = data.resolve(role + "-token");
        if (Files.isRegularFile(file)) {
            String t = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (status(base + "/api/v1/chips", t) == 200) return t;
        }
        JsonNode minted = admin.post("/api/v1/tokens", Map.of("name", "aneforge-up-" + role + "-" + System.currentTimeMillis(),
                "role", role));
        String token = minted.path("token").asText();
        if (token.isEmpty()) throw new IllegalStateException("POST /api/v1/tokens answered without a token: " + minted);
        writeSecret(file, token);
        return token;
    }

    private int status(String url, String token) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET();
            if (token != null) b.header("Authorization", "Bearer " + token);
            return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private void waitForRegistry(String base, Children children, long deadline, PrintWriter out) throws InterruptedException {
        out.println("waiting for the registry on " + base + " ...");
        while (status(base + "/actuator/health", null) != 200) {
            checkAlive(children);
            if (System.nanoTime() > deadline) throw new CommandFailure("the registry did not become healthy in time: see its log");
            Thread.sleep(500);
        }
        out.println("registry is up");
    }

    private static void checkAlive(Children children) {
        Optional<Children.Child> dead = children.exited();
        if (dead.isPresent()) {
            throw new CommandFailure(dead.get().name() + " exited with code " + dead.get().process().exitValue()
                    + " while starting: see " + dead.get().log() + lastLines(dead.get().log()));
        }
    }

    private static String lastLines(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            List<String> tail = lines.subList(Math.max(0, lines.size() - 15), lines.size());
            return "\n  " + String.join("\n  ", tail);
        } catch (IOException | java.io.UncheckedIOException e) {
            return "";
        }
    }

    /**
     * The demo version to wait for: a published one (nothing to do), else a draft whose conversion is still
     * running, else a new version converting the local snapshot with the default recipe.
     */
    private int publishDemo(RegistryClient admin, Path snapshot, PrintWriter out) {
        String path = "/api/v1/models/" + DEMO_MODEL;
        if (admin.find(path).isEmpty()) {
            admin.post("/api/v1/models", Map.of("name", DEMO_MODEL, "task", "feature-extraction"));
            out.println("created model " + DEMO_MODEL);
        }
        setDemoGates(admin, out);
        JsonNode versions = admin.get(path + "/versions");
        int running = -1;
        for (JsonNode v : versions) {
            String status = v.path("status").asText();
            int n = v.path("version").asInt();
            if ("published".equals(status)) {
                out.println(DEMO_MODEL + " version " + n + " is already published; not publishing again");
                return n;
            }
            if ("draft".equals(status)) {
                Optional<JsonNode> c = admin.find(path + "/versions/" + n + "/conversion");
                if (c.isPresent() && List.of("queued", "running").contains(c.get().path("state").asText())) running = n;
            }
        }
        if (running > 0) {
            out.println(DEMO_MODEL + " version " + running + " is still converting; waiting for it");
            return running;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("source", Map.of("type", "local", "path", snapshot.toAbsolutePath().normalize().toString()));
        body.put("chips", chips);
        body.put("recipe", "default");
        body.put("seqLen", 128);
        JsonNode v = admin.post(path + "/versions", body);
        int n = v.path("version").asInt();
        out.println("queued " + DEMO_MODEL + " version " + n + " for conversion from " + snapshot + " (recipe default, chips "
                + String.join(",", chips) + "); it is published once converted");
        return n;
    }

    /**
     * Gives the demo model {@link #DEMO_MIN_COSINE} unless its gates were ever set: gates someone changed or cleared,
     * even to none, stay as they are on every later run. Before the version is promoted, so the alias move is checked
     * against them as a real release would be.
     */
    static void setDemoGates(RegistryClient admin, PrintWriter out) {
        setDemoGates(admin, DEMO_MODEL, out);
    }

    /**
     * {@link #setDemoGates(RegistryClient, PrintWriter)} for {@code model}. "Ever set" is both: the model has gates
     * now ({@code set}, a row even with no limits) or its gate history is not empty. The history alone is not
     * enough: it starts at V20, and gates set before that have none, so a PUT (which replaces the whole set) would
     * silently drop them.
     */
    static void setDemoGates(RegistryClient admin, String model, PrintWriter out) {
        String path = "/api/v1/models/" + model + "/gates";
        JsonNode current = admin.get(path);
        if (current.path("set").asBoolean(false) || !noLimits(current.path("gates"))) return;
        if (!admin.get(path + "/history").isEmpty()) return;
        admin.put(path, Map.of("minCosine", DEMO_MIN_COSINE));
        out.println("gates for " + model + ": minCosine " + DEMO_MIN_COSINE + " (PUT " + path + " to change them)");
    }

    /** Whether a gates object sets no limit (every field missing, null or an empty map). */
    private static boolean noLimits(JsonNode gates) {
        if (gates.isMissingNode() || gates.isNull()) return true;
        for (JsonNode field : gates.values()) {
            if (!field.isNull() && !(field.isObject() && field.isEmpty())) return false;
        }
        return true;
    }

    /** Waits for the conversion (version published) and then for the accuracy jobs, printing changes. */
    private void waitUntilReady(RegistryClient admin, int version, Children children, long deadline, PrintWriter out)
            throws InterruptedException {
        String path = "/api/v1/models/" + DEMO_MODEL + "/versions/" + version;
        String last = "";
        while (true) {
            checkAlive(children);
            JsonNode v = admin.get(path);
            String status = v.path("status").asText();
            String line;
            if ("published".equals(status)) {
                line = accuracyLine(admin.get(path + "/jobs"));
                if (line == null) {
                    out.println("accuracy checks done");
                    return;
                }
            } else if ("draft".equals(status)) {
                line = conversionLine(admin.find(path + "/conversion"));
            } else {
                Optional<JsonNode> c = admin.find(path + "/conversion");
                throw new CommandFailure(DEMO_MODEL + " version " + version + " is " + status
                        + c.map(j -> ": " + j.path("error").asText()).orElse("")
                        + "; see " + logs.resolve("converter-worker.log") + ", then delete the data directory or fix and run up again");
            }
            if (!line.equals(last)) {
                out.println(line);
                out.flush();
                last = line;
            }
            if (System.nanoTime() > deadline) {
                throw new CommandFailure("the demo model is not READY within --timeout " + timeoutMinutes + " minutes (" + line
                        + "): see the logs under " + logs + " or raise --timeout");
            }
            Thread.sleep(2000);
        }
    }

    private static String conversionLine(Optional<JsonNode> conversion) {
        if (conversion.isEmpty()) return "conversion: not created yet";
        JsonNode c = conversion.get();
        int total = 0;
        int registered = 0;
        int building = 0;
        for (JsonNode v : c.path("variants")) {
            total++;
            String s = v.path("state").asText();
            if ("registered".equals(s)) registered++;
            if ("building".equals(s)) building++;
        }
        return "conversion: " + c.path("state").asText() + ", step " + c.path("step").asText("-") + ", variants "
                + registered + "/" + total + " registered" + (building > 0 ? ", " + building + " building" : "");
    }

    /** Null when every accuracy job has finished; otherwise a progress line. Failed checks end {@code up}. */
    private String accuracyLine(JsonNode jobs) {
        int total = 0;
        int done = 0;
        String waiting = null;
        for (JsonNode j : jobs) {
            if (!"accuracy".equals(j.path("kind").asText())) continue;
            total++;
            String s = j.path("state").asText();
            if ("succeeded".equals(s)) {
                done++;
            } else if ("failed".equals(s)) {
                throw new CommandFailure("accuracy job " + j.path("id").asText() + " failed: " + j.path("failureReason").asText()
                        + "; see " + logs.resolve("device-agent.log"));
            } else if (waiting == null && !j.path("waitingFor").isMissingNode() && !j.path("waitingFor").isNull()) {
                waiting = j.path("waitingFor").asText();
            }
        }
        if (done == total) return null;
        return "accuracy checks: " + done + "/" + total + " done" + (waiting == null ? "" : " (" + waiting + ")");
    }

    /** Points {@code production} at the version so that resolve without {@code version=} finds it. */
    private static void promote(RegistryClient admin, int version, PrintWriter out) {
        String path = "/api/v1/models/" + DEMO_MODEL + "/aliases/production";
        Optional<JsonNode> current = admin.find(path);
        if (current.isPresent() && current.get().path("version").asInt() == version) return;
        try {
            admin.put(path, Map.of("version", version, "reason", "aneforge up demo"));
        } catch (RegistryException e) {
            throw new CommandFailure("could not point alias production at " + DEMO_MODEL + " version " + version + ": "
                    + e.getMessage(), e);
        }
        out.println("alias production -> version " + version);
    }
}

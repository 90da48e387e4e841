package io.aneforge.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * docker-compose.yml against the applications it runs. Docker is not needed (and not available
 * where these tests were written): the file is interpolated and parsed, then compared with each
 * module's application.yml, pom.xml and Dockerfile.
 */
class ComposeFileTest {

    private static final ComposeFile COMPOSE = ComposeFile.load();

    static List<SpringApp> apps() {
        return SpringApp.ALL;
    }

    @Test
    void runsTheWholeStack() {
        assertThat(COMPOSE.serviceNames()).containsExactlyInAnyOrder(
                "postgres", "minio", "minio-init", "registry-api", "converter-worker", "device-agent");
    }

    /**
     * Every {@code docker compose} command the docs give names services the file has (docs/deploy.md once said
     * {@code up -d registry}, which compose refuses: the service is {@code registry-api}).
     */
    @Test
    void composeCommandsInTheDocsNameServicesTheFileHas() throws java.io.IOException {
        Pattern command = Pattern.compile("docker compose ([^`#\n]*)");
        List<String> docs = new ArrayList<>(List.of("README.md"));
        try (var files = Files.list(Repository.path("docs"))) {
            files.map(f -> "docs/" + f.getFileName()).filter(n -> n.endsWith(".md")).sorted().forEach(docs::add);
        }
        int checked = 0;
        for (String doc : docs) {
            Matcher m = command.matcher(Repository.read(doc));
            while (m.find()) {
                String[] words = m.group(1).trim().split("\\s+");
                boolean exec = words[0].equals("exec") || words[0].equals("run");
                for (int i = 1; i < words.length; i++) {
                    String w = words[i];
                    if (w.equals("--scale")) {
                        String scaled = words[++i].substring(0, words[i].indexOf('='));
                        assertThat(COMPOSE.serviceNames()).as("%s: docker compose %s", doc, m.group(1)).contains(scaled);
                        checked++;
                    } else if (!w.startsWith("-")) {
                        assertThat(COMPOSE.serviceNames()).as("%s: docker compose %s", doc, m.group(1)).contains(w);
                        checked++;
                        if (exec) break; // the rest is the command run in the container
                    }
                }
            }
        }
        assertThat(checked).as("service names found in docker compose commands of the docs").isPositive();
        // The variable docs/deploy.md sets before `docker compose up -d registry-api` reaches the registry.
        assertThat(ComposeFile.parse(Repository.read("docker-compose.yml"),
                        Map.of("ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED", "true")).environment("registry-api"))
                .containsEntry("ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED", "true");
        assertThat(Repository.read("docs/deploy.md"))
                .contains("ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED=true docker compose up -d registry-api");
    }

    @ParameterizedTest
    @MethodSource("apps")
    void setsEveryVariableTheApplicationRequires(SpringApp app) {
        assertThat(COMPOSE.environment(app.module()).keySet())
                .as("environment of compose service %s vs. what %s needs (placeholders without a default in %s,"
                        + " and the deployment contract)", app.module(), app.module(), app.applicationYmlPath())
                .containsAll(app.requiredEnv());
    }

    @ParameterizedTest
    @MethodSource("apps")
    void setsOnlyVariablesTheApplicationReads(SpringApp app) {
        List<String> unknown = new ArrayList<>();
        COMPOSE.environment(app.module()).keySet().forEach(env -> {
            if (!app.knows(env)) {
                unknown.add(env);
            }
        });
        assertThat(unknown)
                .as("variables set on compose service %s that %s does not read (typo? renamed property?)",
                        app.module(), app.applicationYmlPath())
                .isEmpty();
    }

    @Test
    void everyInterpolatedVariableHasADefault() {
        // ${VAR} without a default becomes an empty string with only a warning from compose.
        assertThat(COMPOSE.variablesWithoutDefault).isEmpty();
    }

    @Test
    void dependenciesExistAndTheirConditionsCanBeMet() {
        for (String service : COMPOSE.serviceNames()) {
            COMPOSE.dependsOn(service).forEach((target, condition) -> {
                assertThat(COMPOSE.serviceNames()).as("%s depends on %s", service, target).contains(target);
                assertThat(condition).as("%s -> %s", service, target)
                        .isIn("service_healthy", "service_completed_successfully");
                if (condition.equals("service_healthy")) {
                    assertThat(COMPOSE.healthcheck(target))
                            .as("%s waits for %s to be healthy, so %s needs a healthcheck", service, target, target)
                            .isNotEmpty();
                } else {
                    assertThat(COMPOSE.service(target).path("restart").asString())
                            .as("%s waits for %s to complete, so %s must not restart", service, target, target)
                            .isEqualTo("no");
                }
            });
        }
        assertThat(COMPOSE.dependsOn("registry-api")).containsEntry("postgres", "service_healthy")
                .containsEntry("minio", "service_healthy")
                .containsEntry("minio-init", "service_completed_successfully");
        assertThat(COMPOSE.dependsOn("converter-worker")).containsEntry("registry-api", "service_healthy");
        assertThat(COMPOSE.dependsOn("device-agent")).containsEntry("registry-api", "service_healthy");
    }

    @Test
    void namedVolumesAreDeclaredAndUsed() {
        Set<String> used = new LinkedHashSet<>();
        for (String service : COMPOSE.serviceNames()) {
            for (String mount : COMPOSE.volumes(service)) {
                String source = mount.substring(0, mount.indexOf(':'));
                if (source.startsWith(".") || source.startsWith("/")) {
                    assertThat(Files.exists(Repository.path(source))).as("bind mount %s of %s", source, service).isTrue();
                } else {
                    used.add(source);
                }
            }
        }
        assertThat(used).containsExactlyInAnyOrderElementsOf(COMPOSE.root.path("volumes").propertyNames());
        assertThat(COMPOSE.volumes("postgres")).contains("postgres-data:/var/lib/postgresql/data");
        assertThat(COMPOSE.volumes("minio")).contains("minio-data:/data");
    }

    @Test
    void registryPortHealthCheckAndActuatorLineUp() {
        SpringApp registry = SpringApp.REGISTRY;
        Map<String, String> env = COMPOSE.environment("registry-api");
        int port = Integer.parseInt(env.getOrDefault("SERVER_PORT", String.valueOf(registry.serverPort())));
        assertThat(port).isEqualTo(registry.serverPort());

        assertThat(COMPOSE.ports("registry-api")).singleElement()
                .satisfies(p -> assertThat(p).endsWith(":" + port));
        URI health = healthUri("registry-api");
        assertThat(health.getPort()).isEqualTo(port);
        assertThat(health.getPath()).isEqualTo("/actuator/health/readiness");
        // /readiness exists outside Kubernetes only with probes enabled: the registry's application.yml
        // enables them and defines the readiness group; compose does not set them again (one source).
        assertThat(registry.effective("management.endpoint.health.probes.enabled", env)).isEqualTo("true");
        assertThat(registry.effective("management.endpoint.health.group.readiness.include", env).split(","))
                .contains("readinessState", "db", "storage");
        assertThat(env).doesNotContainKeys("MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED",
                "MANAGEMENT_ENDPOINT_HEALTH_GROUP_READINESS_INCLUDE");
        assertThat(registry.servesHttp()).isTrue();
        assertThat(registry.exposesHealth()).isTrue();
    }

    @Test
    void workerHealthCheckIsItsReadinessWhichIncludesTheLeaseOutcome() {
        // A worker whose token the registry refuses converts nothing: it must not show healthy.
        URI health = healthUri("converter-worker");
        assertThat(health.getPath()).isEqualTo("/actuator/health/readiness");
        assertThat(health.getPort()).isEqualTo(SpringApp.WORKER.serverPort());
        assertThat(SpringApp.WORKER.effective("management.endpoint.health.group.readiness.include",
                COMPOSE.environment("converter-worker")).split(",")).contains("readinessState", "registry");
    }

    @ParameterizedTest
    @MethodSource("apps")
    void httpHealthChecksOnlyWhereTheApplicationServesHttp(SpringApp app) {
        List<String> check = COMPOSE.healthcheck(app.module());
        boolean httpCheck = String.join(" ", check).contains("/actuator/health");
        if (app.servesHttp() && app.exposesHealth()) {
            assertThat(httpCheck).as("%s serves /actuator/health: its compose service should check it", app.module())
                    .isTrue();
            URI health = healthUri(app.module());
            String port = COMPOSE.environment(app.module()).getOrDefault("SERVER_PORT", String.valueOf(app.serverPort()));
            assertThat(health.getPort()).as("%s health check port", app.module()).isEqualTo(Integer.parseInt(port));
        } else {
            // A check of something else (the agent's liveness file) is fine; an HTTP one could never pass.
            assertThat(String.join(" ", check)).as("%s serves no HTTP (no web starter, or web-application-type none):"
                    + " an HTTP health check could never pass", app.module()).doesNotContain("http://", "/actuator");
        }
    }

    @Test
    void servicesReachEachOtherByServiceNameAndPort() {
        int registryPort = Integer.parseInt(COMPOSE.environment("registry-api").get("SERVER_PORT"));
        String registryUrl = "http://registry-api:" + registryPort;
        assertThat(COMPOSE.environment("converter-worker")).containsEntry("ANEFORGE_REGISTRY_URL", registryUrl);
        assertThat(COMPOSE.environment("device-agent")).containsEntry("ANEFORGE_AGENT_REGISTRY_URL", registryUrl);

        Map<String, String> postgres = COMPOSE.environment("postgres");
        Map<String, String> registry = COMPOSE.environment("registry-api");
        assertThat(registry).containsEntry("SPRING_DATASOURCE_URL",
                        "jdbc:postgresql://postgres:5432/" + postgres.get("POSTGRES_DB"))
                .containsEntry("SPRING_DATASOURCE_USERNAME", postgres.get("POSTGRES_USER"))
                .containsEntry("SPRING_DATASOURCE_PASSWORD", postgres.get("POSTGRES_PASSWORD"));

        Map<String, String> minio = COMPOSE.environment("minio");
        Map<String, String> init = COMPOSE.environment("minio-init");
        assertThat(registry).containsEntry("ANEFORGE_S3_ENDPOINT", "http://minio:9000")
                .containsEntry("ANEFORGE_S3_ACCESS_KEY", minio.get("MINIO_ROOT_USER"))
                .containsEntry("ANEFORGE_S3_SECRET_KEY", minio.get("MINIO_ROOT_PASSWORD"))
                .containsEntry("ANEFORGE_S3_BUCKET", init.get("ANEFORGE_S3_BUCKET"));
        assertThat(init).containsEntry("ANEFORGE_S3_ENDPOINT", registry.get("ANEFORGE_S3_ENDPOINT"))
                .containsEntry("ANEFORGE_S3_ACCESS_KEY", minio.get("MINIO_ROOT_USER"))
                .containsEntry("ANEFORGE_S3_SECRET_KEY", minio.get("MINIO_ROOT_PASSWORD"));
        String command = String.join(" ", textValues(COMPOSE.service("minio-init").path("command")));
        // $$ in the file is a literal $ for the container's shell, after compose's interpolation.
        assertThat(command).contains("mc mb --ignore-existing \"aneforge/${ANEFORGE_S3_BUCKET}\"")
                .contains("mc alias set aneforge \"${ANEFORGE_S3_ENDPOINT}\"");
    }

    /**
     * The workers' job repository is a database of their own under a role of their own, created by the postgres
     * service's init script (WorkerDatabaseScriptTest runs it): a worker's credentials cannot read the registry's
     * tables. The script reads its password from the postgres service; the worker must be given the same one.
     */
    @Test
    void theWorkerHasADatabaseAndRoleOfItsOwn() {
        Map<String, String> worker = COMPOSE.environment("converter-worker");
        Map<String, String> registry = COMPOSE.environment("registry-api");
        Map<String, String> postgres = COMPOSE.environment("postgres");
        assertThat(worker.get("SPRING_DATASOURCE_URL")).isEqualTo("jdbc:postgresql://postgres:5432/aneforge_worker")
                .isNotEqualTo(registry.get("SPRING_DATASOURCE_URL"));
        assertThat(worker.get("SPRING_DATASOURCE_USERNAME")).isEqualTo("aneforge_worker")
                .isNotEqualTo(registry.get("SPRING_DATASOURCE_USERNAME"));
        assertThat(worker.get("SPRING_DATASOURCE_PASSWORD")).isEqualTo(postgres.get("ANEFORGE_WORKER_DB_PASSWORD"))
                .isNotEqualTo(registry.get("SPRING_DATASOURCE_PASSWORD"));
        assertThat(COMPOSE.volumes("postgres")).contains("./deploy/postgres-init:/docker-entrypoint-initdb.d:ro");
        assertThat(Files.isExecutable(Repository.path("deploy/postgres-init/10-worker-database.sh")))
                .as("the postgres image runs *.sh init scripts that are executable (others are sourced)").isTrue();
        // Within its own database the worker still keeps its tables out of public (as when it shared one).
        String prefix = SpringApp.WORKER.property("spring.batch.jdbc.table-prefix");
        assertThat(prefix).as("spring.batch.jdbc.table-prefix of converter-worker").isNotNull().contains(".");
    }

    @Test
    void scalableServicesPublishNoPortsAndHaveNoFixedName() {
        for (String service : List.of("converter-worker", "device-agent")) {
            assertThat(COMPOSE.ports(service)).as("%s: a host port would collide with --scale", service).isEmpty();
            assertThat(COMPOSE.service(service).has("container_name")).as("%s container_name", service).isFalse();
        }
    }

    /** The agent has no web server: its health check is the age of the file it touches on every registry call. */
    @Test
    void agentHealthCheckIsTheAgeOfTheLivenessFileTheImageNames() {
        String file = Dockerfile.of("device-agent").env().get("ANEFORGE_AGENT_LIVENESS_FILE");
        assertThat(file).as("device-agent/Dockerfile sets ANEFORGE_AGENT_LIVENESS_FILE").startsWith("/tmp/");
        assertThat(SpringApp.AGENT.knows("ANEFORGE_AGENT_LIVENESS_FILE")).isTrue();
        assertThat(String.join(" ", COMPOSE.healthcheck("device-agent")))
                .contains("find " + file + " -mmin -5").startsWith("CMD sh -c test -n");
    }

    @Test
    void composeWaitsLongerThanTheAgentDrains() {
        long drain = seconds(COMPOSE.environment("device-agent").get("ANEFORGE_AGENT_DRAIN_TIMEOUT"));
        long grace = seconds(COMPOSE.service("device-agent").path("stop_grace_period").asString("10s"));
        assertThat(grace).as("stop_grace_period vs. ANEFORGE_AGENT_DRAIN_TIMEOUT").isGreaterThan(drain);
    }

    @Test
    void composeWaitsForTheWorkerToHandItsLeaseBack() {
        // ConversionRunner waits up to 20 s for the interrupted job, then releases the lease.
        long grace = seconds(COMPOSE.service("converter-worker").path("stop_grace_period").asString("10s"));
        assertThat(grace).as("converter-worker stop_grace_period").isGreaterThan(20);
    }

    private static long seconds(String duration) {
        Matcher m = Pattern.compile("(\\d+)(s|m)").matcher(duration);
        assertThat(m.matches()).as("duration %s", duration).isTrue();
        return Long.parseLong(m.group(1)) * (m.group(2).equals("m") ? 60 : 1);
    }

    @Test
    void theLinuxAgentOffersTheReferenceRuntime() {
        // Core ML exists only on macOS; asking for it on Linux leaves the agent with nothing to offer.
        assertThat(COMPOSE.environment("device-agent")).containsEntry("ANEFORGE_AGENT_RUNTIMES", "reference-cpu");
    }

    /**
     * review-r21: settings the docs tell operators to put in .env reach the services: the audit retention (empty: kept
     * for ever), the refused writes' retention (empty: 30 days) and the golden data format the workers write (empty: the newest).
     */
    @Test
    void auditRetentionAndGoldenFormatComeFromTheEnvironment() {
        assertThat(COMPOSE.environment("registry-api")).containsEntry("ANEFORGE_AUDIT_RETENTION", "")
                .containsEntry("ANEFORGE_AUDIT_REFUSAL_RETENTION", "");
        assertThat(COMPOSE.environment("converter-worker")).containsEntry("ANEFORGE_GOLDEN_FORMAT", "");
        ComposeFile set = ComposeFile.parse(Repository.read("docker-compose.yml"),
                Map.of("ANEFORGE_AUDIT_RETENTION", "365d", "ANEFORGE_AUDIT_REFUSAL_RETENTION", "90d",
                        "ANEFORGE_GOLDEN_FORMAT", "1"));
        assertThat(set.environment("registry-api")).containsEntry("ANEFORGE_AUDIT_RETENTION", "365d")
                .containsEntry("ANEFORGE_AUDIT_REFUSAL_RETENTION", "90d");
        assertThat(set.environment("converter-worker")).containsEntry("ANEFORGE_GOLDEN_FORMAT", "1");
    }

    /** The registry checks a local source's path lexically, the worker its real path: both read the same variable. */
    @Test
    void registryAndWorkerGetTheSameLocalSourceRoots() {
        assertThat(COMPOSE.environment("registry-api")).containsEntry("ANEFORGE_SOURCES_LOCAL_ROOTS", "");
        assertThat(COMPOSE.environment("converter-worker")).containsEntry("ANEFORGE_SOURCES_LOCAL_ROOTS", "");
        ComposeFile set = ComposeFile.parse(Repository.read("docker-compose.yml"),
                Map.of("ANEFORGE_SOURCES_LOCAL_ROOTS", "/srv/snapshots"));
        assertThat(set.environment("registry-api")).containsEntry("ANEFORGE_SOURCES_LOCAL_ROOTS", "/srv/snapshots");
        assertThat(set.environment("converter-worker")).containsEntry("ANEFORGE_SOURCES_LOCAL_ROOTS", "/srv/snapshots");
    }

    @Test
    void theWorkerSharesItsHuggingFaceCacheAtHfHome() {
        String hfHome = COMPOSE.environment("converter-worker").get("HF_HOME");
        assertThat(COMPOSE.volumes("converter-worker")).contains("hf-cache:" + hfHome);
    }

    @ParameterizedTest
    @MethodSource("apps")
    void imagesAreBuiltFromTheModuleJarAndTaggedWithTheProjectVersion(SpringApp app) {
        var service = COMPOSE.service(app.module());
        String context = service.path("build").path("context").asString();
        assertThat(Repository.ROOT.resolve(context).normalize()).isEqualTo(Repository.path(app.module()));
        assertThat(service.path("image").asString())
                .isEqualTo("aneforge/" + app.module() + ":" + Repository.projectVersion());

        Dockerfile dockerfile = Dockerfile.of(app.module());
        assertThat(dockerfile.baseImages()).as("%s/Dockerfile FROM lines", app.module())
                .isNotEmpty().allMatch(image -> image.equals("eclipse-temurin:17-jre"));
        assertThat(dockerfile.copiedFromContext()).as("%s/Dockerfile copies the module's executable jar", app.module())
                .contains("target/" + app.execJarGlob());
        assertThat(dockerfile.text()).contains("USER 10001");
        // The build context is the module directory; .dockerignore keeps it to the jar.
        assertThat(Repository.read(app.module() + "/.dockerignore")).contains("!target/" + app.execJarGlob());
    }

    @ParameterizedTest
    @MethodSource("apps")
    void documentsTheDockerfileNamesExist(SpringApp app) {
        java.util.regex.Matcher doc = java.util.regex.Pattern.compile("[\\w./-]+\\.md\\b")
                .matcher(Dockerfile.of(app.module()).text());
        while (doc.find()) {
            assertThat(Repository.path(doc.group())).as("%s/Dockerfile names %s", app.module(), doc.group()).exists();
        }
    }

    @ParameterizedTest
    @MethodSource("apps")
    void jvmOptionsAUserPassesCannotDropTheImagesHeapSizingOrExitOnOom(SpringApp app) {
        Dockerfile dockerfile = Dockerfile.of(app.module());
        // A user's JAVA_TOOL_OPTIONS / JDK_JAVA_OPTIONS replaces an image's value of it: the image keeps none.
        assertThat(dockerfile.env()).as("ENV of %s/Dockerfile", app.module())
                .doesNotContainKeys("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS");
        String entrypoint = dockerfile.instructions().stream().filter(i -> i.startsWith("ENTRYPOINT "))
                .reduce((a, b) -> b).orElseThrow();
        assertThat(entrypoint).as("%s/Dockerfile ENTRYPOINT", app.module())
                .contains("exec java ", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "$JAVA_OPTS");
        // Appended after the image's flags (the last of a repeated flag wins) and before -jar (after it, they
        // would be the application's arguments).
        assertThat(entrypoint.indexOf("$JAVA_OPTS"))
                .isGreaterThan(entrypoint.indexOf("-XX:+ExitOnOutOfMemoryError"))
                .isLessThan(entrypoint.indexOf("-jar application.jar"));

        // Compose passes the documented host variable through, empty by default.
        String hostVariable = "ANEFORGE_" + switch (app.module()) {
            case "registry-api" -> "REGISTRY";
            case "converter-worker" -> "WORKER";
            default -> "AGENT";
        } + "_JAVA_OPTS";
        assertThat(COMPOSE.environment(app.module())).containsEntry("JAVA_OPTS", "");
        assertThat(ComposeFile.parse(Repository.read("docker-compose.yml"), Map.of(hostVariable, "-Xmx2g"))
                .environment(app.module())).containsEntry("JAVA_OPTS", "-Xmx2g");
        assertThat(Repository.read("docs/deploy.md")).contains(hostVariable);
    }

    @ParameterizedTest
    @MethodSource("apps")
    void healthCheckToolsAreInstalledInTheImage(SpringApp app) {
        List<String> check = COMPOSE.healthcheck(app.module());
        if (check.size() > 1 && check.get(1).equals("curl")) {
            assertThat(Dockerfile.of(app.module()).text())
                    .as("%s checks health with curl, which eclipse-temurin does not promise", app.module())
                    .containsPattern("apt-get install[^\\n]*curl");
        }
    }

    @ParameterizedTest
    @MethodSource("apps")
    void variablesBakedIntoTheImageAreReadByTheApplication(SpringApp app) {
        assertThat(Dockerfile.of(app.module()).env().keySet())
                .as("ENV of %s/Dockerfile", app.module())
                .allSatisfy(env -> assertThat(app.knows(env)).as("%s reads %s", app.module(), env).isTrue());
    }

    @ParameterizedTest
    @MethodSource("apps")
    void writableDirectoriesExistInTheImageOwnedByTheAppUser(SpringApp app) {
        // The images run as uid 10001: a directory the image lacks would be created root-owned
        // (a fresh named volume copies the image directory's owner), and the app could not write.
        Set<String> dirs = new LinkedHashSet<>();
        COMPOSE.volumes(app.module()).forEach(v -> dirs.add(v.split(":")[1]));
        COMPOSE.environment(app.module()).forEach((name, value) -> {
            if (value.startsWith("/var/")) {
                dirs.add(value);
            }
        });
        Dockerfile dockerfile = Dockerfile.of(app.module());
        String setup = String.join("\n", dockerfile.instructions());
        for (String dir : dirs) {
            assertThat(setup).as("%s/Dockerfile creates %s", app.module(), dir).containsPattern("mkdir -p [^\n]*" + Pattern.quote(dir));
            assertThat(setup).as("%s/Dockerfile gives %s to the app user", app.module(), dir)
                    .containsPattern("chown [^\n]*aneforge:aneforge [^\n]*" + Pattern.quote(parentOrSelf(dir, setup)));
        }
    }

    /** The directory a chown covers: the path itself, or (chown -R) one of its parents. */
    private static String parentOrSelf(String dir, String setup) {
        String candidate = dir;
        while (candidate.lastIndexOf('/') > 0) {
            if (Pattern.compile("chown [^\n]*" + Pattern.quote(candidate) + "(\\s|$)", Pattern.MULTILINE).matcher(setup).find()) {
                return candidate;
            }
            candidate = candidate.substring(0, candidate.lastIndexOf('/'));
        }
        return dir;
    }

    private static URI healthUri(String service) {
        List<String> check = COMPOSE.healthcheck(service);
        return check.stream().filter(s -> s.startsWith("http://")).map(URI::create).findFirst()
                .orElseThrow(() -> new AssertionError(service + " has no HTTP health check: " + check));
    }

    private static List<String> textValues(tools.jackson.databind.JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(n -> out.add(n.asString()));
        } else if (!node.isMissingNode()) {
            out.add(node.asString());
        }
        return out;
    }
}

package io.aneforge.deploy;

import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Spring Boot application module as a deployment sees it: the environment variables its
 * {@code application.yml} reads, the ones it cannot start without, its port and whether it
 * serves HTTP at all.
 *
 * @param module the module directory, e.g. {@code registry-api}
 * @param contract environment variables the module is known to read although its
 *     {@code application.yml} may not name them (yet): the deployment contract agreed between the
 *     modules. Checked in both directions: deployments must set them, and may set only variables
 *     the application knows.
 */
record SpringApp(String module, Set<String> contract) {

    static final SpringApp REGISTRY = new SpringApp("registry-api", Set.of(
            "SPRING_DATASOURCE_URL", "SPRING_DATASOURCE_USERNAME", "SPRING_DATASOURCE_PASSWORD", "SERVER_PORT",
            "ANEFORGE_S3_ENDPOINT", "ANEFORGE_S3_ACCESS_KEY", "ANEFORGE_S3_SECRET_KEY", "ANEFORGE_S3_BUCKET",
            "ANEFORGE_ADMIN_TOKEN", "ANEFORGE_PUBLIC_BASE_URL"));

    static final SpringApp WORKER = new SpringApp("converter-worker", Set.of(
            "SPRING_DATASOURCE_URL", "ANEFORGE_REGISTRY_URL", "ANEFORGE_WORKER_TOKEN",
            "ANEFORGE_WORKER_CONCURRENCY", "ANEFORGE_WORKER_WORK_DIR", "HF_ENDPOINT", "HF_HOME", "HF_TOKEN"));

    static final SpringApp AGENT = new SpringApp("device-agent", Set.of(
            "ANEFORGE_AGENT_REGISTRY_URL", "ANEFORGE_AGENT_REGISTRY_TOKEN", "ANEFORGE_AGENT_RUNTIMES",
            "ANEFORGE_AGENT_CACHE_DIR"));

    static final List<SpringApp> ALL = List.of(REGISTRY, WORKER, AGENT);

    /** {@code ${NAME}} or {@code ${NAME:default}}; only upper-case names are environment variables. */
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z0-9_.\\-]+)(:[^}]*)?}");

    /**
     * Variables every Spring Boot application understands (Boot's own properties under relaxed
     * binding) or that the JVM and libraries read directly; they cannot be checked against
     * {@code application.yml}.
     */
    private static final List<String> GENERIC_PREFIXES = List.of(
            "SPRING_", "SERVER_", "MANAGEMENT_", "LOGGING_", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS",
            // Read by the images' entrypoint: extra JVM options after the image's own.
            "JAVA_OPTS",
            "HF_", "DJL_",
            // Read by ane-core itself (GoldenOutputsCodec: the golden data format writers write), not through Spring.
            "ANEFORGE_GOLDEN_FORMAT");

    String applicationYmlPath() {
        return module + "/src/main/resources/application.yml";
    }

    boolean hasApplicationYml() {
        return Files.isRegularFile(Repository.path(applicationYmlPath()));
    }

    private String applicationYml() {
        return hasApplicationYml() ? Repository.read(applicationYmlPath()) : "";
    }

    private Map<String, String> properties() {
        String yml = applicationYml();
        return yml.isBlank() ? Map.of() : Yaml.flatten(Yaml.parse(yml));
    }

    /** Environment variable placeholders in application.yml, each with its default (null: none). */
    Map<String, String> placeholders() {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = PLACEHOLDER.matcher(applicationYml());
        while (m.find()) {
            String name = m.group(1);
            if (name.equals(name.toUpperCase(Locale.ROOT))) {
                out.put(name, m.group(2) == null ? null : m.group(2).substring(1));
            }
        }
        return out;
    }

    /** What a deployment must set: placeholders without a default, and the contract. */
    Set<String> requiredEnv() {
        Set<String> required = new LinkedHashSet<>(contract);
        placeholders().forEach((name, dflt) -> {
            if (dflt == null) {
                required.add(name);
            }
        });
        return required;
    }

    /**
     * Whether setting {@code env} can have an effect: a placeholder, a property of
     * application.yml under Spring's relaxed binding (dots to underscores; dashes removed or, the
     * legacy form, turned into underscores), a contract variable, or a generic one.
     */
    boolean knows(String env) {
        if (contract.contains(env) || placeholders().containsKey(env)) {
            return true;
        }
        for (String prefix : GENERIC_PREFIXES) {
            if (env.startsWith(prefix)) {
                return true;
            }
        }
        for (String key : properties().keySet()) {
            String base = key.replaceAll("\\[\\d+]", "");
            String dotted = base.toUpperCase(Locale.ROOT).replace('.', '_');
            if (env.equals(dotted.replace("-", "")) || env.equals(dotted.replace('-', '_'))) {
                return true;
            }
        }
        return false;
    }

    /** server.port of application.yml, a placeholder's default included (Spring's 8080 when absent). */
    int serverPort() {
        String port = properties().get("server.port");
        if (port == null || port.isBlank()) {
            return 8080;
        }
        Matcher m = PLACEHOLDER.matcher(port.trim());
        if (m.matches()) {
            if (m.group(2) == null) {
                throw new IllegalStateException(applicationYmlPath() + ": server.port " + port + " has no default");
            }
            port = m.group(2).substring(1);
        }
        return Integer.parseInt(port.trim());
    }

    /**
     * The value a property takes in a deployment: the environment variable Spring's relaxed binding maps
     * to it ({@code management.endpoint.health.probes.enabled} → {@code MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED})
     * if {@code env} sets one, else application.yml's value as written, else null.
     */
    String effective(String key, Map<String, String> env) {
        String name = key.toUpperCase(Locale.ROOT).replace('.', '_').replace("-", "");
        return env.containsKey(name) ? env.get(name) : property(key);
    }

    /** A property of application.yml as written (placeholders unresolved), or null. */
    String property(String key) {
        return properties().get(key);
    }

    /** Whether the application starts a web server: a web starter and no web-application-type none. */
    boolean servesHttp() {
        String pom = Repository.read(module + "/pom.xml");
        boolean webStarter = pom.contains("<artifactId>spring-boot-starter-webmvc</artifactId>")
                || pom.contains("<artifactId>spring-boot-starter-web</artifactId>")
                || pom.contains("<artifactId>spring-boot-starter-webflux</artifactId>");
        return webStarter && !"none".equals(properties().get("spring.main.web-application-type"));
    }

    /** Whether actuator is on the classpath and its health endpoint exposed over HTTP. */
    boolean exposesHealth() {
        String pom = Repository.read(module + "/pom.xml");
        String exposed = properties().getOrDefault("management.endpoints.web.exposure.include", "health");
        return pom.contains("<artifactId>spring-boot-starter-actuator</artifactId>")
                && (exposed.contains("health") || exposed.contains("*"));
    }

    /** The executable jar the Spring Boot plugin builds: {@code <artifactId>-<version>-exec.jar}. */
    String execJarGlob() {
        String pom = Repository.read(module + "/pom.xml");
        if (!pom.contains("<classifier>exec</classifier>")) {
            throw new IllegalStateException(module + "/pom.xml no longer builds an `exec` classified Spring Boot jar;"
                    + " update the Dockerfile's COPY and this test together");
        }
        return module + "-*-exec.jar";
    }
}

package io.aneforge.cli;

import io.aneforge.registry.RegistryApplication;
import io.aneforge.testsupport.postgres.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real registry (this JVM's PostgreSQL database, embedded S3 in a temporary directory) over HTTP for the registry
 * commands' tests, started once per test JVM and stopped when it exits: the test classes that share it use model and
 * token names of their own. The database (and so the job queue) is this JVM's, which other registries of the suite
 * use too: a class that publishes leaves no open jobs (publish --without-golden-data cancels them), or another class's
 * agent may lease them.
 */
final class TestRegistry {

    static final String ADMIN = "cli-shared-test-admin-token-0123456789";

    private static Map<String, String> env;

    private TestRegistry() {
    }

    /** {@code ANEFORGE_REGISTRY_URL} and an admin {@code ANEFORGE_TOKEN} for the running registry. */
    static synchronized Map<String, String> env() {
        if (env == null) {
            env = start();
        }
        return env;
    }

    private static Map<String, String> start() {
        Path dir;
        try {
            dir = Files.createTempDirectory("aneforge-cli-test-registry");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // The cli ships slf4j-simple; keep Spring Boot from insisting on Logback in this JVM.
        System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--aneforge.admin-token=" + ADMIN,
                "--aneforge.data-dir=" + dir.resolve("data"), "--aneforge.cache-ttl=0s"));
        TestDatabase.springProperties().forEach((k, v) -> args.add("--" + k + "=" + v));
        ConfigurableApplicationContext registry = new SpringApplication(RegistryApplication.class).run(args.toArray(String[]::new));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            registry.close();
            try {
                ConvertCommand.delete(dir);
            } catch (RuntimeException ignored) {
                // best effort: a temporary directory
            }
        }, "stop-test-registry"));
        String url = "http://127.0.0.1:" + registry.getEnvironment().getProperty("local.server.port");
        return Map.of("ANEFORGE_REGISTRY_URL", url, "ANEFORGE_TOKEN", ADMIN);
    }
}

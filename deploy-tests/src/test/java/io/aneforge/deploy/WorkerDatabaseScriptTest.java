package io.aneforge.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * deploy/postgres-init/10-worker-database.sh run the way the postgres image runs it (POSTGRES_USER and POSTGRES_DB
 * set, psql on the path), against this machine's PostgreSQL at 127.0.0.1:5432 with throwaway names: the role it
 * creates logs in to its own database, may create the job repository's schema there, and may not connect to
 * the registry's database. Skipped where there is no psql or no server.
 */
class WorkerDatabaseScriptTest {

    private final String suffix = Long.toUnsignedString(new SecureRandom().nextLong(), 36);
    private final String registryDb = "aneforge_deploytest_" + suffix;
    private final String workerRole = "aneforge_deploytest_worker_" + suffix;

    @AfterEach
    void dropEverything() throws Exception {
        psql("postgres", "postgres", "DROP DATABASE IF EXISTS " + workerRole + " WITH (FORCE)");
        psql("postgres", "postgres", "DROP DATABASE IF EXISTS " + registryDb + " WITH (FORCE)");
        psql("postgres", "postgres", "DROP ROLE IF EXISTS " + workerRole);
    }

    @Test
    void theWorkerRoleOwnsItsDatabaseAndCannotConnectToTheRegistrys() throws Exception {
        assumeTrue(answers(), "no PostgreSQL at 127.0.0.1:5432");
        assumeTrue(run(List.of("psql", "--version"), Map.of()).exit() == 0, "no psql");
        assertThat(psql("postgres", "postgres", "CREATE DATABASE " + registryDb).exit()).isZero();

        Result script = run(List.of("sh", Repository.path("deploy/postgres-init/10-worker-database.sh").toString()), Map.of(
                "POSTGRES_USER", "postgres", "POSTGRES_DB", registryDb,
                "ANEFORGE_WORKER_DB_USER", workerRole, "ANEFORGE_WORKER_DB_PASSWORD", "it's a \"quoted\" secret"));
        assertThat(script.exit()).as(script.output()).isZero();

        Result own = psql(workerRole, workerRole, "CREATE SCHEMA IF NOT EXISTS aneforge_batch; "
                + "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = current_user");
        assertThat(own.exit()).as(own.output()).isZero();
        assertThat(own.output().strip()).isEqualTo("f");

        Result registry = psql(workerRole, registryDb, "SELECT 1");
        assertThat(registry.exit()).as("the worker's role may not connect to the registry's database").isNotZero();
        assertThat(registry.output()).contains("permission denied for database");
    }

    @Test
    void withoutAPasswordTheScriptStopsAndSaysWhichVariable() throws Exception {
        assumeTrue(run(List.of("sh", "-c", "true"), Map.of()).exit() == 0, "no sh");
        Result script = run(List.of("sh", Repository.path("deploy/postgres-init/10-worker-database.sh").toString()), Map.of(
                "POSTGRES_USER", "postgres", "POSTGRES_DB", registryDb, "ANEFORGE_WORKER_DB_USER", workerRole));
        assertThat(script.exit()).isNotZero();
        assertThat(script.output()).contains("ANEFORGE_WORKER_DB_PASSWORD");
    }

    private record Result(int exit, String output) {}

    private static Result psql(String user, String db, String sql) throws Exception {
        return run(List.of("psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", db, "-c", sql), Map.of());
    }

    private static Result run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true);
        pb.environment().remove("ANEFORGE_WORKER_DB_PASSWORD");
        pb.environment().put("PGHOST", "127.0.0.1");
        pb.environment().put("PGPORT", "5432");
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Result(p.waitFor(), out);
        } catch (IOException e) {
            return new Result(127, e.getMessage());
        }
    }

    private static boolean answers() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", 5432), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.testsupport.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The worker needs nothing of the registry's database: it runs with a role that owns only its own database
 * (docker-compose's and the Helm chart's {@code aneforge_worker}), creates its job repository there on start, and
 * that role cannot read the registry's tables. Every other worker test runs with such a role too ({@link Stack}).
 */
class WorkerDatabaseTest {

    @Test
    void aWorkerRunsWithARoleOfItsOwnThatCannotReadTheRegistrysTables() throws Exception {
        Stack stack = Stack.get();
        try (ConfigurableApplicationContext worker = stack.startWorker("db-check", 1, java.util.Map.of("ANEFORGE_WORKER_POLL", "false"))) {
            assertThat(worker.isRunning()).isTrue();
        }
        try (Connection c = stack.workerDb.open(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT schema_owner FROM information_schema.schemata WHERE schema_name = 'aneforge_batch'")) {
            assertThat(r.next()).as("the worker created its job repository's schema").isTrue();
            assertThat(r.getString(1)).isEqualTo(stack.workerDb.user());
        }
        try (Connection c = stack.workerDb.open(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user")) {
            assertThat(r.next()).isTrue();
            assertThat(new boolean[] {r.getBoolean(1), r.getBoolean(2), r.getBoolean(3)}).containsOnly(false);
        }
        // The same role on the registry's database (PUBLIC may connect by default): no table of the registry is readable.
        String registryUrl = TestDatabase.jdbcUrl();
        try (Connection c = DriverManager.getConnection(registryUrl, stack.workerDb.user(), stack.workerDb.userPassword());
             Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT count(*) FROM model"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501")); // insufficient_privilege
        }
    }
}

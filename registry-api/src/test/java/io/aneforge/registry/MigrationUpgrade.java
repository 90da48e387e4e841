package io.aneforge.registry;

import io.aneforge.testsupport.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * A migration tested on the rows an older release left: a throwaway schema of the test database migrated up to that
 * release, rows written there, then the rest of the migrations run as the registry runs them at start, and the result
 * read back. The schema is dropped afterwards, also when the test fails.
 */
public final class MigrationUpgrade {
    private MigrationUpgrade() {
    }

    /** What a test does in the schema (its search_path set to it). */
    @FunctionalInterface
    public interface InSchema {
        void run(Statement st) throws Exception;
    }

    /**
     * Migrates a fresh schema up to migration {@code release} (a database of that release) and runs {@code before} in
     * it, migrates it the rest of the way, then runs {@code after} in it.
     */
    public static void from(String release, InSchema before, InSchema after) throws Exception {
        // The release goes into the schema's name, an SQL identifier written out unquoted.
        if (release == null || !release.matches("\\d+")) {
            throw new IllegalArgumentException("release must be a migration's version number, digits only (\"20\" for"
                    + " V20), not " + (release == null ? "null" : "\"" + release + "\""));
        }
        String schema = "v" + release + "_upgrade_" + Long.toHexString(System.nanoTime());
        // A resource rather than a finally block: a failed drop is added to the test's own failure as suppressed
        // instead of replacing it.
        try (AutoCloseable dropped = () -> drop(schema)) {
            migrations(schema).target(release).load().migrate();
            inSchema(schema, before);
            migrations(schema).load().migrate();
            inSchema(schema, after);
        }
    }

    private static void drop(String schema) throws SQLException {
        try (Connection c = connect();
             Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    /** Each row of {@code sql}'s result as its columns' text joined by {@code /} (SQL NULL as {@code null}). */
    public static List<String> rows(Statement st, String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= columns; i++) {
                    row.append(i > 1 ? "/" : "").append(rs.getString(i));
                }
                rows.add(row.toString());
            }
        }
        return rows;
    }

    private static void inSchema(String schema, InSchema step) throws Exception {
        try (Connection c = connect();
             Statement st = c.createStatement()) {
            st.execute("SET search_path TO " + schema);
            step.run(st);
        }
    }

    private static FluentConfiguration migrations(String schema) {
        return Flyway.configure().dataSource(TestDatabase.jdbcUrl(), TestDatabase.username(), TestDatabase.password())
                .schemas(schema).locations("classpath:db/migration");
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection(TestDatabase.jdbcUrl(), TestDatabase.username(), TestDatabase.password());
    }
}

package io.aneforge.registry.alias;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * A model row locked in a connection of the test, as an alias move or deletion holds it (Aliases.lockModel: the same
 * statement) until {@link #release()}. Requests that need the row meanwhile wait, which {@link #awaitWaiting} observes
 * in PostgreSQL itself rather than by sleeping, so a test releases only once they all wait.
 */
final class ModelRowLock implements AutoCloseable {

    private final Connection connection;
    private final DataSource dataSource;

    ModelRowLock(DataSource dataSource, long modelId) throws SQLException {
        this.dataSource = dataSource;
        connection = dataSource.getConnection();
        connection.setAutoCommit(false);
        try (PreparedStatement lock = connection.prepareStatement("SELECT id FROM model WHERE id = ? FOR NO KEY UPDATE")) {
            lock.setLong(1, modelId);
            lock.executeQuery().close();
        }
    }

    /**
     * Waits until {@code sessions} sessions of this test's database wait for a lock (the test JVM has the database to
     * itself, and its background sweepers skip locked rows rather than wait). Fails naming what waits otherwise.
     */
    void awaitWaiting(int sessions) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> waiting = List.of();
        while (System.nanoTime() < deadline) {
            waiting = waiting();
            if (waiting.size() >= sessions) return;
            Thread.sleep(50);
        }
        throw new AssertionError("expected " + sessions + " sessions waiting for a lock, found " + waiting);
    }

    /** Asked in a connection of its own: a transaction sees pg_stat_activity as of its first look at it. */
    private List<String> waiting() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement q = c.prepareStatement("SELECT query FROM pg_stat_activity"
                     + " WHERE datname = current_database() AND wait_event_type = 'Lock'");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    /** Commits: the waiting requests go on, in the order PostgreSQL grants them the row. */
    void release() throws SQLException {
        connection.commit();
    }

    @Override
    public void close() throws SQLException {
        connection.rollback();
        connection.close();
    }
}

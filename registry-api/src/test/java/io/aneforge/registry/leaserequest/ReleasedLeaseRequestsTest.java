package io.aneforge.registry.leaserequest;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The lock protocol of V15 on two real PostgreSQL connections, as a lease and a release by request use it: a release
 * waits for a grant check under way (and then sees its grant), and a grant check that meets a release under way waits
 * for it and then sees its record, although its own statement's snapshot was taken before the release committed.
 */
class ReleasedLeaseRequestsTest extends RegistryTestBase {

    @Autowired
    DataSource dataSource;

    private final ExecutorService pool = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void aReleaseWaitsForAGrantCheckUnderWay() throws Exception {
        UUID request = UUID.randomUUID();
        try (Connection lease = dataSource.getConnection(); Connection release = dataSource.getConnection()) {
            lease.setAutoCommit(false);
            release.setAutoCommit(false);
            assertThat(released(lease, "w-lock", request)).as("nothing released yet").isFalse();

            Future<?> locked = pool.submit(() -> {
                call(release, "SELECT lease_request_release_lock('conversion', 'w-lock', ?)", request);
                return null;
            });
            assertBlocked(locked, "the release while the grant's transaction is open");
            lease.commit(); // the grant (here: nothing) is committed: the release goes on and would see it
            locked.get(10, TimeUnit.SECONDS);
            release.rollback();
        }
    }

    @Test
    void aGrantCheckThatMeetsAReleaseWaitsAndSeesItsRecord() throws Exception {
        UUID request = UUID.randomUUID();
        try (Connection lease = dataSource.getConnection(); Connection release = dataSource.getConnection()) {
            lease.setAutoCommit(false);
            release.setAutoCommit(false);
            call(release, "SELECT lease_request_release_lock('conversion', 'w-lock', ?)", request);
            try (PreparedStatement s = release.prepareStatement(
                    "INSERT INTO released_lease_request (request, queue, owner) VALUES (?, 'conversion', 'w-lock')")) {
                s.setObject(1, request);
                s.executeUpdate();
            }

            // One statement, as the lease statement: its own snapshot (the count) is taken before the release commits.
            Future<boolean[]> check = pool.submit(() -> {
                try (PreparedStatement s = lease.prepareStatement("SELECT (SELECT lease_request_released('conversion',"
                        + " 'w-lock', ?)), (SELECT count(*) > 0 FROM released_lease_request WHERE request = ?)")) {
                    s.setObject(1, request);
                    s.setObject(2, request);
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        return new boolean[] {rs.getBoolean(1), rs.getBoolean(2)};
                    }
                }
            });
            assertBlocked(check, "the grant check while the release's transaction is open");
            release.commit();
            boolean[] seen = check.get(10, TimeUnit.SECONDS);
            assertThat(seen[0]).as("the check sees the release committed while it waited").isTrue();
            assertThat(seen[1]).as("the statement's own snapshot does not (why the check is a volatile function)").isFalse();
            lease.rollback();
        }
    }

    @Test
    void noRequestIsNeverReleased() throws Exception {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT lease_request_released('job', 'x', NULL)")) {
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                assertThat(rs.getBoolean(1)).isFalse();
            }
        }
    }

    private static boolean released(Connection c, String owner, UUID request) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT lease_request_released('conversion', ?, ?)")) {
            s.setString(1, owner);
            s.setObject(2, request);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static void call(Connection c, String sql, UUID request) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setObject(1, request);
            s.executeQuery().close();
        }
    }

    private static void assertBlocked(Future<?> f, String what) throws Exception {
        try {
            f.get(500, TimeUnit.MILLISECONDS);
            throw new AssertionError(what + " did not wait");
        } catch (TimeoutException expected) {
            // still waiting for the other transaction's lock, as it should
        }
    }
}

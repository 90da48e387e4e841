package io.aneforge.registry.leaserequest;

import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;

/**
 * Lease calls that their client released before anything was granted for them ({@code released_lease_request},
 * V15). A client whose lease answer was lost releases "the lease granted for my request"; when nothing is granted
 * yet the call may still be on its way (held by a proxy, queued behind a busy registry, waiting in a long poll or for
 * a database connection) and be granted later. The release then records the request here and the grant is refused:
 * the lease call answers as if there were no work. Everything is in PostgreSQL, so it holds across registry replicas.
 *
 * <p>Race-free by a transaction-level advisory lock on (queue, owner, request), taken exclusively by the release
 * ({@link #lockForRelease}, before it looks for the grant) and shared by the grant's check (the SQL function
 * {@code lease_request_released}, which then reads the table with a fresh snapshot): a release waits for a grant under
 * way and finds it; a grant after the release waits for its commit and sees the record.
 */
@Service
public class ReleasedLeaseRequests {

    private static final Logger log = LoggerFactory.getLogger(ReleasedLeaseRequests.class);

    /**
     * How long a record is kept. A record matters only while the call that carried its (random) request id could
     * still be granted: its wait, a connection wait, a proxy's hold, minutes at most. A day leaves room for any of
     * them and keeps the table to a day's lost answers, which are rare.
     */
    public static final Duration KEEP = Duration.ofDays(1);

    /** Which queue a request id belongs to; the owner is the agent id for jobs, the worker id for conversions. */
    public enum Queue {
        JOB("job"), CONVERSION("conversion");

        private final String wire;

        Queue(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }
    }

    /**
     * The condition a lease statement adds to its pick, with parameters {@code :leaseRequestOwner} (text) and
     * {@code :request} (uuid, may be null): true unless the request was released. An uncorrelated scalar subquery, so
     * PostgreSQL evaluates it once per statement (a one-time filter ahead of the pick), not once per candidate row.
     */
    public static String notReleased(Queue queue) {
        return "NOT (SELECT lease_request_released('" + queue.wire() + "', CAST(:leaseRequestOwner AS text),"
                + " CAST(:request AS uuid)))";
    }

    private final JdbcClient jdbc;

    ReleasedLeaseRequests(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Takes the release's lock on the request, in the caller's transaction and until it ends. Call it before
     * looking for the lease granted for the request, and {@link #remember} in the same transaction if there is none.
     */
    public void lockForRelease(Queue queue, String owner, UUID request) {
        jdbc.sql("SELECT lease_request_release_lock(?, ?, ?)").params(queue.wire(), owner, request)
                .query((rs, i) -> 0).list();
    }

    /** Records that {@code request} was released with nothing granted (under {@link #lockForRelease}); idempotent. */
    public void remember(Queue queue, String owner, UUID request) {
        jdbc.sql("INSERT INTO released_lease_request (request, queue, owner) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .params(request, queue.wire(), owner).update();
    }

    /**
     * Whether a grant for {@code request} must be refused, for a lease path that checks in a statement of its own
     * (before its pick, in the same transaction); holds the shared lock until the transaction ends.
     */
    public boolean released(Queue queue, String owner, UUID request) {
        if (request == null) return false;
        return Boolean.TRUE.equals(jdbc.sql("SELECT lease_request_released(?, ?, ?)")
                .params(queue.wire(), owner, request).query(Boolean.class).single());
    }

    /**
     * Deletes the records older than {@link #KEEP}. Every replica runs it every ten minutes; the DELETE is
     * idempotent, so they need no coordination, and it reads the age index, so an empty run costs nothing.
     */
    @Scheduled(fixedDelay = 600_000, initialDelay = 60_000)
    public int purge() {
        // The database's clock on both sides: released_at is its now() at the release.
        int n = jdbc.sql("DELETE FROM released_lease_request WHERE released_at < now() - make_interval(secs => ?)")
                .param((double) KEEP.toSeconds()).update();
        if (n > 0) log.debug("purged {} released lease request(s) older than {}", n, KEEP);
        return n;
    }
}

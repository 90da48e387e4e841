package io.aneforge.registry.audit;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The audit trail's retention ({@link AuditProperties#retention}): deletes audit events older than it, the only
 * delete of the append-only {@code audit_event}. It goes through the database function {@code audit_event_prune}
 * (V25), the one path the table's trigger lets a DELETE through, for rows older than the bound it sets.
 *
 * <p>Every registry replica runs it; no coordination is needed: each batch deletes rows older than a bound, so a
 * repeat deletes only what is left, and rows another replica's batch holds are skipped, not waited for.
 */
@Component
class AuditPruning {

    private static final Logger log = LoggerFactory.getLogger(AuditPruning.class);

    /** Rows per DELETE: each batch is its own short transaction, so a first prune of a large table holds no long lock. */
    static final int BATCH = 10_000;
    /**
     * Batches per run: the scheduler's one thread also runs the lease sweeper and the queue statistics, which a first
     * prune of a large table would otherwise hold up for as long as it takes (review-r21); the rest goes next hour.
     */
    static final int MAX_BATCHES = 100;

    private final JdbcClient jdbc;
    private final Duration retention;
    private final RefusedWrites refusals;
    private final Duration refusalRetention;

    AuditPruning(JdbcClient jdbc, AuditProperties props, RefusedWrites refusals) {
        this.jdbc = jdbc;
        this.retention = props.retention();
        this.refusals = refusals;
        this.refusalRetention = props.refusalRetention();
    }

    /**
     * Hourly: the audit events with the configured retention (nothing when it is unset), then the refused writes
     * with theirs (always set). Returns how many audit events were deleted.
     */
    @Scheduled(fixedDelay = 3_600_000, initialDelay = 60_000)
    long prune() {
        long events = prune(retention, BATCH);
        pruneRefusals(refusalRetention, BATCH, MAX_BATCHES);
        return events;
    }

    /** Deletes the refused writes whose last refusal is older than {@code retention}; returns how many. */
    long pruneRefusals(Duration retention, int batch, int maxBatches) {
        long total = refusals.prune(retention, batch, maxBatches);
        if (total > 0) {
            log.info("audit trail: deleted {} refused-write row(s) older than {} (aneforge.audit.refusal-retention)",
                    total, retention);
        }
        return total;
    }

    /** Deletes the events older than {@code retention} (null: none), {@code batch} rows per statement; returns how many. */
    long prune(Duration retention, int batch) {
        return prune(retention, batch, MAX_BATCHES);
    }

    /** As {@link #prune(Duration, int)}, at most {@code maxBatches} statements; what is left waits for the next run. */
    long prune(Duration retention, int batch, int maxBatches) {
        if (retention == null) return 0;
        long total = 0;
        int deleted;
        int batches = 0;
        do {
            // no transaction around the loop: each call is its own, and its DELETE commits before the next
            deleted = jdbc.sql("SELECT audit_event_prune(make_interval(secs => ?), ?)")
                    .params((double) retention.toSeconds(), batch).query(Integer.class).single();
            total += deleted;
            batches++;
        } while (deleted == batch && batches < maxBatches);
        if (total > 0) {
            log.info("audit trail: deleted {} event(s) older than {} (aneforge.audit.retention){}", total, retention,
                    deleted == batch ? "; more are left for the next run" : "");
        }
        return total;
    }
}

package io.aneforge.registry.job;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

/**
 * Keeps the planner's statistics of the {@code job} table fresh enough for the lease statement.
 *
 * <p>Why: the lease picks the oldest open job ({@code ORDER BY id LIMIT 1 ... SKIP LOCKED}), which
 * is cheap along the partial index {@code job_queue}. Before the table has statistics (a new
 * database, or thousands of jobs created since autovacuum last analyzed it, which it does at most
 * once a minute) PostgreSQL guesses that few rows match and plans a bitmap scan of every open job
 * plus a sort, per lease: measured at 5 ms of database CPU per job instead of 1 with 15,000 open
 * jobs. So when many rows changed since the last analyze, this analyzes the table itself.
 */
@Component
class QueueStatistics {

    private static final Logger log = LoggerFactory.getLogger(QueueStatistics.class);

    /** Analyze once this many rows changed since the last analyze and they are a fifth of the table. */
    static final long MIN_CHANGES = 1000;

    /** One registry instance at a time: another instance's ANALYZE would only wait and repeat it. */
    private static final long LOCK_KEY = 0x616e65666f726765L; // "aneforge"

    private final JdbcClient jdbc;

    QueueStatistics(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Analyzes {@code job} when its statistics are stale; returns whether it did. */
    @Transactional
    public boolean refreshIfStale() {
        Boolean stale = jdbc.sql("""
                        SELECT n_mod_since_analyze >= :min AND n_mod_since_analyze * 5 >= n_live_tup
                          FROM pg_stat_user_tables WHERE relid = CAST('job' AS regclass)""")
                .param("min", MIN_CHANGES)
                .query(Boolean.class).optional().orElse(false);
        if (!stale) return false;
        boolean mine = jdbc.sql("SELECT pg_try_advisory_xact_lock(:key)").param("key", LOCK_KEY)
                .query(Boolean.class).single();
        if (!mine) return false;
        long t0 = System.nanoTime();
        jdbc.sql("ANALYZE job").update();
        log.info("analyzed the job table (statistics were stale) in {} ms", (System.nanoTime() - t0) / 1_000_000);
        return true;
    }
}

package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.OffsetDateTime;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The registry analyzes the job table itself after a burst of new jobs (see {@link QueueStatistics}). */
class QueueStatisticsTest extends JobTestSupport {

    @Autowired
    QueueStatistics statistics;

    @Autowired
    JdbcClient jdbc;

    @Test
    void aBurstOfNewJobsGetsTheJobTableAnalyzed() throws Exception {
        createModel("stats-burst");
        int v = createVersion("stats-burst");
        addVariant("stats-burst", v, "M2", "18.0", "ane", "fp16");
        long variant = jdbc.sql("""
                        SELECT va.id FROM variant va JOIN model_version mv ON mv.id = va.version_id
                          JOIN model m ON m.id = mv.model_id WHERE m.name = 'stats-burst'""")
                .query(Long.class).single();
        Optional<OffsetDateTime> before = lastAnalyze();

        // 400 more variants of the version with 4 benchmark jobs each, as a bulk registration would create them
        // (never ready: no golden data, so no other test can lease them).
        jdbc.sql("""
                        INSERT INTO variant (version_id, chip, deployment_target, layout, precision, seq_len, blob_digest,
                                             size, status, created_by)
                        SELECT version_id, chip, deployment_target, layout, precision, 1000 + g, blob_digest, size, status,
                               created_by
                          FROM variant, generate_series(1, 400) g WHERE id = ?""")
                .param(variant).update();
        int jobs = jdbc.sql("""
                        INSERT INTO job (variant_id, kind, runtime, chip, compute_units, state, ready, max_attempts)
                        SELECT va.id, 'benchmark', 'coreml', 'M2', cu, 'pending', false, 3
                          FROM variant va JOIN model_version mv ON mv.id = va.version_id JOIN model m ON m.id = mv.model_id,
                               unnest(ARRAY['cpuOnly', 'cpuAndGPU', 'cpuAndNeuralEngine', 'all']) cu
                         WHERE m.name = 'stats-burst' AND va.seq_len > 1000""")
                .update();
        assertThat(jobs).isEqualTo(1600);

        // PostgreSQL publishes table counters within a second or so; the scheduled check (every 5 s)
        // may get there first, which is as good.
        long deadline = System.nanoTime() + 30_000_000_000L;
        boolean analyzed = false;
        while (!analyzed && System.nanoTime() < deadline) {
            statistics.refreshIfStale();
            Optional<OffsetDateTime> now = lastAnalyze();
            analyzed = now.isPresent() && (before.isEmpty() || now.get().isAfter(before.get()));
            if (!analyzed) Thread.sleep(250);
        }
        assertThat(analyzed).as("the job table was analyzed after 1,600 new jobs").isTrue();
        assertThat(statistics.refreshIfStale()).as("fresh statistics are left alone").isFalse();
    }

    /** When the table was last analyzed by an ANALYZE statement (autovacuum's own runs count elsewhere). */
    private Optional<OffsetDateTime> lastAnalyze() {
        return jdbc.sql("SELECT last_analyze FROM pg_stat_user_tables WHERE relid = CAST('job' AS regclass)")
                .query((rs, i) -> Optional.ofNullable(rs.getObject(1, OffsetDateTime.class))).single();
    }
}

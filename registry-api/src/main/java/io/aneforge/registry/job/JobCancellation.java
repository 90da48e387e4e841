package io.aneforge.registry.job;

import io.aneforge.registry.model.VersionPublishedWithoutGoldenData;
import io.aneforge.registry.model.VersionYanked;
import io.aneforge.registry.variant.VariantYanked;
import java.time.Clock;
import java.time.ZoneOffset;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Cancels the open jobs of a yanked variant or version, in the yanking transaction, and those of a version published
 * without golden data (they need it, and a published version can no longer take it), in the publishing transaction. Pending jobs
 * are never leased; a leased one loses its lease, so the holder's next heartbeat tells it to drop
 * the work and its report is refused as {@code lease-not-held}. Finished jobs and their results
 * stay as they are: they are history.
 */
@Component
class JobCancellation {

    private static final String CANCEL = """
            UPDATE job SET state = 'cancelled', failure_reason = :reason, finished_at = :now, lease_id = NULL,
                   lease_expires_at = NULL
             WHERE state IN ('pending', 'leased')""";

    private final JdbcClient jdbc;
    private final Clock clock = Clock.systemUTC();

    JobCancellation(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @EventListener
    void onVariantYanked(VariantYanked e) {
        cancel("variant_id = :id", e.variantId(), "cancelled: variant " + e.variantId() + " of " + e.model()
                + " version " + e.version() + " was yanked (" + e.reason() + ")");
    }

    @EventListener
    void onVersionYanked(VersionYanked e) {
        cancel("variant_id IN (SELECT id FROM variant WHERE version_id = :id)", e.versionId(), "cancelled: version "
                + e.version() + " of " + e.model() + " was yanked (" + e.reason() + ")");
    }

    /**
     * The failure text of each cancelled job says what the matrix shows for it: accuracy not checked, or not
     * benchmarked (a benchmark runs the golden inputs and compares its first outputs with the golden outputs).
     */
    @EventListener
    void onPublishedWithoutGoldenData(VersionPublishedWithoutGoldenData e) {
        String who = " (by " + e.choice().by() + ": " + e.choice().reason() + ")";
        String version = "variant_id IN (SELECT id FROM variant WHERE version_id = :id)";
        cancel(version + " AND kind = '" + Job.ACCURACY + "'", e.versionId(), NOT_CHECKED + who);
        cancel(version + " AND kind = '" + Job.BENCHMARK + "'", e.versionId(), NOT_BENCHMARKED + who);
    }

    /** The matrix's words for a job of a version published without golden data (also V23's for older versions). */
    static final String NOT_CHECKED = Jobs.NOT_CHECKED;
    static final String NOT_BENCHMARKED = "published without golden data: not benchmarked (benchmarks run the golden inputs)";

    /** Cancels the open jobs that {@code which} (a condition on {@code job} naming {@code :id}) selects. */
    private void cancel(String which, long id, String reason) {
        jdbc.sql(CANCEL + " AND " + which)
                .param("id", id)
                .param("reason", reason)
                .param("now", clock.instant().atOffset(ZoneOffset.UTC))
                .update();
    }
}

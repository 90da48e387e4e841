package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryTestBase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * aneforge.audit.retention: the prune (V25's audit_event_prune, the one delete the append-only table lets through)
 * deletes only events older than the retention, in batches; with the retention unset (the test registry's, and the
 * default) it deletes nothing.
 */
class AuditRetentionTest extends RegistryTestBase {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    AuditPruning pruning;

    @Autowired
    PlatformTransactionManager transactions;

    /** Events of {@code model} {@code daysAgo} old, inserted as rows (the table takes inserts; `at` as given). */
    private void events(String model, int daysAgo, int count) {
        for (int i = 0; i < count; i++) {
            jdbc.sql("INSERT INTO audit_event (at, actor_name, actor_role, action, model) VALUES"
                    + " (now() - make_interval(days => ?), 'retention-test', 'admin', 'gates.put', ?)")
                    .params(daysAgo, model).update();
        }
    }

    private List<Integer> ages(String model) {
        return jdbc.sql("SELECT CAST(round(extract(epoch FROM now() - at) / 86400) AS int) FROM audit_event WHERE model = ?"
                + " ORDER BY at").param(model).query(Integer.class).list();
    }

    @Test
    void pruningDeletesOnlyEventsOlderThanTheRetentionInBatches() {
        String m = "retention-" + Long.toHexString(System.nanoTime());
        events(m, 400, 5);
        events(m, 40, 1);
        events(m, 0, 1);

        // off: the configured retention (unset in the test registry, as by default) deletes nothing, nor does null
        assertThat(pruning.prune()).isZero();
        assertThat(pruning.prune(null, 2)).isZero();
        assertThat(ages(m)).containsExactly(400, 400, 400, 400, 400, 40, 0);

        // a year, at most two statements per run: four of the five 400-day-old events go, the fifth waits for the next run
        assertThat(pruning.prune(Duration.ofDays(365), 2, 2)).isEqualTo(4L);
        assertThat(ages(m)).containsExactly(400, 40, 0);
        // the next run takes the last one, the newer two stay
        assertThat(pruning.prune(Duration.ofDays(365), 2)).isEqualTo(1L);
        assertThat(ages(m)).containsExactly(40, 0);
        assertThat(pruning.prune(Duration.ofDays(365), 2)).as("a repeat finds nothing left").isZero();
        assertThat(pruning.prune(Duration.ofDays(30), 100)).isEqualTo(1L);
        assertThat(ages(m)).containsExactly(0);
    }

    @Test
    void theTableStaysAppendOnlyOutsideThePrune() {
        String m = "retention-guard-" + Long.toHexString(System.nanoTime());
        events(m, 400, 1);
        // a plain DELETE, even of an old row, is refused; so is a prune that would keep less than a day
        assertThatThrownBy(() -> jdbc.sql("DELETE FROM audit_event WHERE model = ?").param(m).update())
                .hasMessageContaining("append-only").hasMessageContaining("audit_event_prune");
        assertThatThrownBy(() -> jdbc.sql("SELECT audit_event_prune(interval '1 hour', 10)").query(Integer.class).single())
                .hasMessageContaining("at least 1 day");
        assertThatThrownBy(() -> jdbc.sql("UPDATE audit_event SET actor_name = 'x' WHERE model = ?").param(m).update())
                .hasMessageContaining("append-only");
        assertThat(ages(m)).containsExactly(400);
    }

    /**
     * review-r21: the prune's bound is a setting any session can set. Forged to 'infinity' around a plain DELETE, it
     * still removes no row younger than a day (V27), and TRUNCATE is refused outright.
     */
    @Test
    void aForgedPruneBoundRemovesNoRowYoungerThanADayAndTruncateIsRefused() {
        String m = "retention-forged-" + Long.toHexString(System.nanoTime());
        events(m, 0, 1);
        TransactionTemplate tx = new TransactionTemplate(transactions);
        assertThatThrownBy(() -> tx.executeWithoutResult(s -> {
            jdbc.sql("SELECT set_config('aneforge.audit_prune_before', 'infinity', true)").query(String.class).single();
            jdbc.sql("DELETE FROM audit_event WHERE model = ?").param(m).update();
        })).hasMessageContaining("append-only");
        assertThatThrownBy(() -> jdbc.sql("TRUNCATE audit_event").update())
                .hasMessageContaining("TRUNCATE is refused");
        assertThat(ages(m)).containsExactly(0);
    }

    @Test
    void theRetentionSettingIsUnsetOrAtLeastADay() {
        assertThat(bind(Map.of()).retention()).isNull();
        assertThat(bind(Map.of("aneforge.audit.retention", "")).retention()).as("ANEFORGE_AUDIT_RETENTION unset").isNull();
        assertThat(bind(Map.of("aneforge.audit.retention", "365d")).retention()).isEqualTo(Duration.ofDays(365));
        for (String tooShort : List.of("90", "12h", "0s", "-1d")) {
            assertThatThrownBy(() -> bind(Map.of("aneforge.audit.retention", tooShort)))
                    .isInstanceOf(BindException.class)
                    .rootCause().hasMessageContaining("aneforge.audit.retention (ANEFORGE_AUDIT_RETENTION) must be at least 1d")
                    .hasMessageContaining("a bare number is milliseconds").hasMessageContaining("unset to keep");
        }
    }

    private static AuditProperties bind(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("aneforge.audit", Bindable.of(AuditProperties.class));
    }
}

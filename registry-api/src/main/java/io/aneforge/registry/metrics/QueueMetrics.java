package io.aneforge.registry.metrics;

import io.aneforge.registry.agent.FleetProperties;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Gauges of what the registry's queues and fleet hold, for alerts an operator cannot build from HTTP
 * metrics ("no online agent offers coreml on M3", "jobs pending for an hour", "the conversion queue
 * grows"): the same facts {@code GET /agents}, the jobs lists and {@code GET /conversions} show, read
 * from the database every {@code aneforge.metrics.refresh-interval} (15 s) by every replica, so each
 * replica exports the whole picture and a dashboard takes any one (max, not sum, across replicas).
 *
 * <ul>
 *   <li>{@code aneforge.jobs} (state, kind, runtime, chip): open jobs; state {@code waiting} is
 *       pending but not runnable yet (the version's golden data is missing), {@code pending} runnable,
 *       {@code leased} running on an agent; chip {@code any} for jobs any agent with the runtime may take.</li>
 *   <li>{@code aneforge.jobs.oldest.age} (same tags, seconds): age of the oldest open job of the row.</li>
 *   <li>{@code aneforge.agents} (state, chip, runtime): agents per runtime they offer; state {@code online},
 *       {@code offline} (not heard from within {@code aneforge.agents.offline-after}) or {@code draining}; retired
 *       agents are left out;
 *       chip {@code none} for hosts without an Apple chip.</li>
 *   <li>{@code aneforge.conversions} (state) and {@code aneforge.conversions.oldest.age} (seconds): queued
 *       and running conversions.</li>
 * </ul>
 * Rows that empty out are removed, not left at their last value. A refresh that fails (database down) keeps
 * the last values and logs once until a refresh succeeds again; readiness reports the database itself.
 */
@Component
class QueueMetrics {

    private static final Logger log = LoggerFactory.getLogger(QueueMetrics.class);

    private final JdbcClient jdbc;
    private final Duration offlineAfter;
    private final MultiGauge jobs;
    private final MultiGauge jobAges;
    private final MultiGauge agents;
    private final MultiGauge conversions;
    private final MultiGauge conversionAges;
    private volatile boolean failing;

    QueueMetrics(JdbcClient jdbc, FleetProperties fleet, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.offlineAfter = fleet.offlineAfter();
        this.jobs = MultiGauge.builder("aneforge.jobs").description("open benchmark and accuracy jobs").register(meters);
        this.jobAges = MultiGauge.builder("aneforge.jobs.oldest.age").baseUnit("seconds")
                .description("age of the oldest open job").register(meters);
        this.agents = MultiGauge.builder("aneforge.agents").description("registered device agents per runtime offered")
                .register(meters);
        this.conversions = MultiGauge.builder("aneforge.conversions").description("queued and running conversions")
                .register(meters);
        this.conversionAges = MultiGauge.builder("aneforge.conversions.oldest.age").baseUnit("seconds")
                .description("age of the oldest queued or running conversion").register(meters);
    }

    @Scheduled(fixedDelayString = "${aneforge.metrics.refresh-interval:15s}", initialDelay = 0)
    void refresh() {
        try {
            refreshNow();
            if (failing) {
                log.info("queue metrics refreshed again");
                failing = false;
            }
        } catch (DataAccessException e) {
            if (!failing) {
                log.warn("queue metrics not refreshed (they keep their last values until the database answers): {}",
                        e.getMostSpecificCause().getMessage());
                failing = true;
            }
        }
    }

    /** One read of each table; package-private for tests. */
    void refreshNow() {
        List<MultiGauge.Row<?>> jobRows = new ArrayList<>();
        List<MultiGauge.Row<?>> jobAgeRows = new ArrayList<>();
        jdbc.sql("""
                SELECT CASE WHEN state = 'pending' AND NOT ready THEN 'waiting' ELSE state END AS state,
                       kind, runtime, coalesce(chip, 'any') AS chip, count(*) AS n,
                       extract(epoch FROM now() - min(created_at)) AS oldest
                FROM job WHERE state IN ('pending', 'leased') GROUP BY 1, 2, 3, 4""")
                .query((rs, i) -> {
                    Tags tags = Tags.of("state", rs.getString("state"), "kind", rs.getString("kind"),
                            "runtime", rs.getString("runtime"), "chip", rs.getString("chip"));
                    jobRows.add(MultiGauge.Row.of(tags, rs.getLong("n")));
                    jobAgeRows.add(MultiGauge.Row.of(tags, rs.getDouble("oldest")));
                    return null;
                }).list();
        List<MultiGauge.Row<?>> agentRows = new ArrayList<>();
        jdbc.sql("""
                SELECT CASE WHEN draining THEN 'draining' WHEN last_seen_at > ? THEN 'online' ELSE 'offline' END AS state,
                       coalesce(chip, 'none') AS chip, r.runtime, count(*) AS n
                FROM agent, unnest(runtimes) AS r(runtime) WHERE retired_at IS NULL GROUP BY 1, 2, 3""")
                .param(Timestamp.from(java.time.Instant.now().minus(offlineAfter)))
                .query((rs, i) -> agentRows.add(MultiGauge.Row.of(Tags.of("state", rs.getString("state"),
                        "chip", rs.getString("chip"), "runtime", rs.getString("runtime")), rs.getLong("n")))).list();
        List<MultiGauge.Row<?>> conversionRows = new ArrayList<>();
        List<MultiGauge.Row<?>> conversionAgeRows = new ArrayList<>();
        jdbc.sql("""
                SELECT state, count(*) AS n, extract(epoch FROM now() - min(created_at)) AS oldest
                FROM conversion WHERE state IN ('queued', 'running') GROUP BY state""")
                .query((rs, i) -> {
                    Tags tags = Tags.of("state", rs.getString("state"));
                    conversionRows.add(MultiGauge.Row.of(tags, rs.getLong("n")));
                    conversionAgeRows.add(MultiGauge.Row.of(tags, rs.getDouble("oldest")));
                    return null;
                }).list();
        jobs.register(jobRows, true);
        jobAges.register(jobAgeRows, true);
        agents.register(agentRows, true);
        conversions.register(conversionRows, true);
        conversionAges.register(conversionAgeRows, true);
    }
}

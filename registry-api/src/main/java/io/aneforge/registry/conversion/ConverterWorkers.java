package io.aneforge.registry.conversion;

import io.aneforge.registry.conversion.ConversionViews.HeldConversion;
import io.aneforge.registry.conversion.ConversionViews.WorkerView;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The converter workers that lease conversions ({@code converter_worker}, V34): each one's id, the {@code
 * conversionOptions} it declares and when it last asked for work, so that a queued conversion's {@code waitingFor}
 * can tell an absent worker from an old or a busy one, and {@code GET /api/v1/workers} can list them.
 *
 * <p>Lease calls come every poll interval from every idle worker: a row is written only when this instance has not
 * written the worker's row for a quarter of {@code aneforge.conversions.worker-window}, or when the declared options
 * changed (an upgraded worker keeping its id), never per call; the check in between is a map lookup. The database
 * row is the truth for every registry instance (each instance writes on its own schedule, so with several the row
 * is written more often, never less); the row's {@code last_call} lags a worker's real last call by at most that
 * quarter, well inside the window. A busy worker does not call lease while it converts: holding an unexpired lease
 * (which its heartbeats extend) counts as running too.
 */
@Service
public class ConverterWorkers {

    /** Rows not written for this long are deleted (a worker id of a pod that is gone). */
    static final Duration FORGET_AFTER = Duration.ofDays(7);
    /** At most this many workers are listed ({@code GET /api/v1/workers}), running ones and the latest calls first. */
    static final int MAX_LISTED = 500;
    /** Bounds this instance's memory of writes; past it the memory starts over (each worker's row is written again). */
    static final int MAX_REMEMBERED = 10_000;

    private record Written(int options, Instant at) {}

    private final Map<String, Written> written = new ConcurrentHashMap<>();
    private final JdbcClient jdbc;
    private final Duration window;
    private final Duration writeEvery;

    ConverterWorkers(JdbcClient jdbc, ConversionProperties props) {
        this.jdbc = jdbc;
        this.window = props.workerWindow();
        this.writeEvery = window.dividedBy(4);
    }

    Duration window() {
        return window;
    }

    /**
     * A lease call of {@code worker} declaring {@code options}: writes its row if this instance has not written it
     * for a quarter of the window or the options changed. Runs in the lease call's transaction, so the row is written
     * with the lease; this instance remembers the write only once that transaction commits (a lease call rolled back
     * leaves the row to be written by the worker's next call, not a quarter of the window later).
     */
    void called(String worker, int options) {
        Instant now = Instant.now();
        Written last = written.get(worker);
        if (last != null && last.options() == options && last.at().plus(writeEvery).isAfter(now)) return;
        jdbc.sql("""
                        INSERT INTO converter_worker (worker, conversion_options, first_call, last_call)
                        VALUES (?, ?, now(), now())
                        ON CONFLICT (worker) DO UPDATE SET conversion_options = EXCLUDED.conversion_options,
                            last_call = EXCLUDED.last_call""")
                .params(worker, options).update();
        Runnable remember = () -> {
            if (!written.containsKey(worker) && written.size() >= MAX_REMEMBERED) written.clear();
            written.put(worker, new Written(options, now));
        };
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    remember.run();
                }
            });
        } else {
            remember.run();
        }
    }

    /**
     * Deletes the rows not written for {@link #FORGET_AFTER} (worker ids of pods that are gone), on a schedule of its
     * own rather than in a lease call's transaction, where two registry instances pruning at once while upserting
     * could deadlock on each other's worker rows; {@code SKIP LOCKED} leaves a row a lease call is writing alone.
     */
    @Scheduled(fixedDelay = 3_600_000, initialDelay = 60_000)
    void prune() {
        jdbc.sql("""
                        DELETE FROM converter_worker WHERE worker IN (
                            SELECT worker FROM converter_worker WHERE last_call < ? FOR UPDATE SKIP LOCKED)""")
                .param(OffsetDateTime.now().minus(FORGET_AFTER)).update();
    }

    /** Every worker known (rows of the last {@link #FORGET_AFTER}, and any lease holder), running ones first. */
    List<WorkerView> all() {
        return fleet(true);
    }

    /** The running workers: asked for work within the window, or holding an unexpired lease. */
    List<WorkerView> running() {
        return fleet(false);
    }

    private List<WorkerView> fleet(boolean all) {
        double windowSeconds = window.toMillis() / 1000.0;
        // A lease holder is running whenever it last asked for work: its row is read whatever its age. One whose
        // row is missing (it leased from a registry before V34) is listed with unknown options.
        String sql = """
                WITH held AS (
                    SELECT c.lease_owner, c.id, m.name, v.version, c.lease_expires_at
                    FROM conversion c JOIN model_version v ON v.id = c.version_id JOIN model m ON m.id = v.model_id
                    WHERE c.state = 'running' AND c.lease_expires_at > now()),
                w AS (
                    SELECT * FROM converter_worker
                    WHERE (? AND last_call >= now() - make_interval(days => ?)) OR last_call >= now() - make_interval(secs => ?)
                       OR worker IN (SELECT lease_owner FROM held))
                SELECT coalesce(w.worker, held.lease_owner) AS worker, w.conversion_options, w.first_call, w.last_call,
                       coalesce(w.last_call >= now() - make_interval(secs => ?), false) OR held.id IS NOT NULL AS running,
                       held.id, held.name, held.version, held.lease_expires_at
                FROM w FULL JOIN held ON held.lease_owner = w.worker
                ORDER BY running DESC, w.last_call DESC NULLS LAST, 1, held.id""";
        // One row per worker and conversion it holds (one row if it holds none): every row of a worker carries the
        // same worker columns and the same "running" (a holder is running).
        Map<String, WorkerView> byWorker = new LinkedHashMap<>();
        jdbc.sql(sql).params(all, (int) FORGET_AFTER.toDays(), windowSeconds, windowSeconds).query(rs -> {
            String worker = rs.getString("worker");
            WorkerView view = byWorker.get(worker);
            if (view == null) {
                view = new WorkerView(worker, (Integer) rs.getObject("conversion_options"),
                        rs.getObject("first_call", OffsetDateTime.class), rs.getObject("last_call", OffsetDateTime.class),
                        rs.getBoolean("running"), new ArrayList<>());
                byWorker.put(worker, view);
            }
            long id = rs.getLong("id");
            if (!rs.wasNull()) {
                view.holds().add(new HeldConversion(id, rs.getString("name"), rs.getInt("version"),
                        rs.getObject("lease_expires_at", OffsetDateTime.class)));
            }
        });
        return byWorker.values().stream().limit(MAX_LISTED).map(w -> new WorkerView(w.worker(), w.conversionOptions(), w.firstCall(),
                w.lastCall(), w.running(), List.copyOf(w.holds()))).toList();
    }

    /**
     * Why a queued conversion is not running yet, from the running workers ({@link #running}): none, none that
     * declares the options it needs, every capable one busy, or some idle (its turn comes at their next call).
     */
    static String waitingFor(int requiredOptions, List<WorkerView> running, Duration window) {
        boolean needsOptions = requiredOptions > 0;
        String options = "conversionOptions " + requiredOptions;
        String what = requiredOptions >= Conversions.OPTIONS_PRE_TRAINING
                ? "head and tokenTypes and knows the pre-training head" : "head and tokenTypes";
        if (running.isEmpty()) {
            return "no converter worker has asked for work in the last " + human(window) + " and none holds a"
                    + " conversion: start one" + (needsOptions ? " of a release that acts on " + what + " (it"
                    + " declares " + options + " or more when leasing), which this conversion needs" : "");
        }
        List<WorkerView> capable = needsOptions
                ? running.stream().filter(w -> w.conversionOptions() != null
                        && w.conversionOptions() >= requiredOptions).toList()
                : running;
        if (capable.isEmpty()) {
            return workers(running.size()) + " running (" + names(running) + "), none declares " + options + " or more"
                    + " (it acts on the " + what + " this conversion needs): upgrade them; workers of releases before"
                    + " it skip this conversion";
        }
        long busy = capable.stream().filter(w -> !w.holds().isEmpty()).count();
        long idle = capable.size() - busy;
        int old = running.size() - capable.size();
        String others = old > 0
                ? "; also running: " + workers(old) + " that " + (old == 1 ? "does" : "do") + " not declare " + options
                        + " or more (upgrading " + (old == 1 ? "it" : "them") + " adds capacity)"
                : "";
        if (idle == 0) {
            return "waiting for a free worker: " + busy + " capable " + (busy == 1 ? "worker" : "workers") + " busy ("
                    + names(capable) + ")" + others;
        }
        return "its turn in the queue: " + idle + " capable " + (idle == 1 ? "worker is" : "workers are") + " idle and"
                + " lease the oldest queued conversion " + (needsOptions ? "they may run " : "") + "at their next call"
                + others;
    }

    private static String workers(long n) {
        return n + " converter " + (n == 1 ? "worker" : "workers");
    }

    /** At most five worker ids, so a big fleet does not make the message a list. */
    private static String names(List<WorkerView> ws) {
        List<String> ids = ws.stream().limit(5).map(w -> "'" + w.worker() + "'").toList();
        return String.join(", ", ids) + (ws.size() > 5 ? " and " + (ws.size() - 5) + " more" : "");
    }

    /** 2 minutes, 1 minute, 90 s. */
    static String human(Duration d) {
        long s = d.toSeconds();
        if (s >= 60 && s % 60 == 0) return s / 60 + (s == 60 ? " minute" : " minutes");
        return s + " s";
    }
}

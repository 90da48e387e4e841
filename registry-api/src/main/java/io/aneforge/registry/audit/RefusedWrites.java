package io.aneforge.registry.audit;

import io.aneforge.registry.auth.Caller;
import jakarta.annotation.PreDestroy;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The refused half of the audit trail, recorded by {@link RefusedWriteAdvice} (named for what it first counted): a
 * write (any method but GET, HEAD and OPTIONS) by an authenticated token answered 403 or 409, and, each told apart
 * by its {@link Kind}, a read by an authenticated token answered 403, a write by one answered 400 or 422 (bad
 * input), and any request answered 401 (no valid token: no actor, only a fingerprint of the token presented, see
 * {@link #fingerprint}). Apart from the audit events
 * ({@link Audit}, changes that committed), so that neither {@code GET /api/v1/audit} nor the {@code aneforge.audit}
 * lines ever show a refusal as a done write: rows in {@code audit_refusal} (V29), read with
 * {@code GET /api/v1/audit/refusals}, and a line per refusal on the logger {@code aneforge.audit.refused}.
 *
 * <p>A row counts the refusals of one hour (UTC) per token, method, endpoint (path pattern), problem type and model
 * (the path's, when it exists), with the first and the last request's id, path and detail: a flood of refused
 * requests adds to a count, not rows, and rows are deleted {@code aneforge.audit.refusal-retention} after their last
 * refusal ({@link AuditPruning}). Each refusal's own request id is in its log line, written at once.
 *
 * <p>Refusals are counted in memory and added to their rows every {@code aneforge.audit.refusal-flush-interval}
 * (5 s), when the registry stops, and before {@code GET /api/v1/audit/refusals} reads them: a refused request costs
 * no database write of its own. Writing each one at once made every refusal wait for a commit on its hour's row,
 * shared by all refusals of that token and endpoint, and a flood of them (a misconfigured script, agents' late
 * reports after a restart) took the connection pool from real work. At most {@link #MAX_PENDING} rows wait in
 * memory; a refusal that would add one more writes them first. A registry killed without a shutdown loses at most
 * the last interval's counts, never its log lines.
 */
@Component
class RefusedWrites {

    private static final Logger LOG = LoggerFactory.getLogger("aneforge.audit.refused");
    private static final Logger log = LoggerFactory.getLogger(RefusedWrites.class);

    /** What a row counts (column {@code kind}, V32). */
    enum Kind {
        /** 403 or 409 to a write by a valid token: refused for who asks or for the state of what it would change. */
        REFUSED_WRITE("refused-write"),
        /** 403 to a read by a valid token. */
        REFUSED_READ("refused-read"),
        /** 400 or 422 to a write by a valid token: its input was refused, nothing changed. */
        INVALID_WRITE("invalid-write"),
        /** 401 to any request: no token, or one that is unknown or revoked; nobody to name. */
        UNAUTHENTICATED("unauthenticated");

        final String wire;

        Kind(String wire) {
            this.wire = wire;
        }

        /** The kind of an answer, or null when it is not recorded (a success, a 404, a read's 400, ...). */
        static Kind of(int status, boolean read, boolean authenticated) {
            if (status == 401) return UNAUTHENTICATED;
            if (!authenticated) return null; // a signed download URL refused (403): no token was presented
            if (read) return status == 403 ? REFUSED_READ : null;
            if (status == 403 || status == 409) return REFUSED_WRITE;
            if (status == 400 || status == 422) return INVALID_WRITE;
            return null;
        }

        static Kind fromWire(String wire) {
            for (Kind k : values()) if (k.wire.equals(wire)) return k;
            throw AuditEvents.invalid("parameter 'kind' is '" + wire + "', not one of "
                    + java.util.Arrays.stream(values()).map(k -> k.wire).toList());
        }
    }
    /** Longest path and detail kept: they may carry what a client sent, which must not grow a row without bound. */
    static final int MAX_TEXT = 1000;
    /**
     * Most rows counted in memory between flushes: each holds up to a few kB of a client's text ({@link #MAX_TEXT}),
     * and names of models that do not exist are separate keys here (the database folds them into one row).
     */
    static final int MAX_PENDING = 1000;
    /**
     * Most distinct token fingerprints of 401s counted per hour by this instance: a flood of made-up tokens would
     * otherwise be a key, and then a row, per token. Past it, that hour's 401s with other tokens count under
     * {@link #OTHER_TOKENS}.
     */
    static final int MAX_FINGERPRINTS_PER_HOUR = 100;
    static final String OTHER_TOKENS = "other";
    /** Hex digits of the token's SHA-256 kept: enough to tell clients apart and find a token's row, not the token. */
    static final int FINGERPRINT_HEX = 12;

    /**
     * One refused request, as {@link RefusedWriteAdvice} saw it; {@code model} the path's, or null; {@code actor} null
     * only for {@link Kind#UNAUTHENTICATED}, whose {@code tokenFingerprint} ({@link #fingerprint}) is null when no
     * bearer token was sent.
     */
    record Refusal(Kind kind, Caller actor, String tokenFingerprint, String method, String route, String path,
                   String model, int status, String problemType, String detail, String requestId) {

        Refusal {
            if (kind == null) throw new IllegalArgumentException("status " + status + " to " + method + " is not recorded");
            if ((kind == Kind.UNAUTHENTICATED) != (actor == null)) {
                throw new IllegalArgumentException("a " + kind.wire + " refusal " + (actor == null ? "needs" : "has no")
                        + " actor");
            }
            if (actor != null && tokenFingerprint != null) {
                throw new IllegalArgumentException("a token fingerprint is kept only for a token that did not authenticate");
            }
        }

        /** A refusal of an authenticated token's request (the kinds but {@link Kind#UNAUTHENTICATED}). */
        Refusal(Caller actor, String method, String route, String path, String model, int status, String problemType,
                String detail, String requestId) {
            this(Kind.of(status, Set.of("GET", "HEAD", "OPTIONS").contains(method), true), actor, null, method, route,
                    path, model, status, problemType, detail, requestId);
        }
    }

    /** One row: an hour's refusals of one token, endpoint, problem type and model. */
    record RefusalRow(long id, String kind, OffsetDateTime hour, OffsetDateTime firstAt, OffsetDateTime lastAt,
                      long count, Long actorTokenId, String actor, String actorRole, String tokenFingerprint,
                      String method, String route, String model,
                      int status, String problemType, String firstRequestId, String lastRequestId, String lastPath,
                      String lastDetail) {}

    /** A page; {@code nextBefore}: pass it as {@code before} for the next (older) page, null when this is the last. */
    record Page(List<RefusalRow> refusals, Long nextBefore) {}

    /** The query as given (each parameter optional, as text: a malformed one is a 400 naming it). */
    record Query(String model, String problemType, String requestId, String since, String before, String limit,
                 String kind, String status, String tokenFingerprint) {

        Query(String model, String problemType, String requestId, String since, String before, String limit) {
            this(model, problemType, requestId, since, before, limit, null, null, null);
        }
    }

    /** What makes a row: the unique index audit_refusal_bucket (V32), with the model as the path named it. */
    private record Key(OffsetDateTime hour, Kind kind, Long tokenId, String actor, String fingerprint, String method,
                       String route, String problemType, String model) {}

    /** The refusals of one key since the last flush: a count, the first one and the last one. */
    private record Counted(long count, OffsetDateTime firstAt, String firstRequestId, OffsetDateTime lastAt,
                           long lastSequence, String role, int status, String lastRequestId, String lastPath,
                           String lastDetail) {

        Counted then(Counted later) {
            boolean newer = later.lastSequence >= lastSequence;
            Counted last = newer ? later : this;
            Counted first = later.firstAt.isBefore(firstAt) ? later : this;
            return new Counted(count + later.count, first.firstAt, first.firstRequestId, last.lastAt, last.lastSequence,
                    last.role, last.status, last.lastRequestId, last.lastPath, last.lastDetail);
        }
    }

    /** Adds a key's counted refusals to its row; first and last are whichever is older and newer, row or memory. */
    private static final String UPSERT = """
            INSERT INTO audit_refusal (bucket, kind, first_at, last_at, count, actor_token_id, actor_name, actor_role,
                   token_fingerprint, method, route, model, status, problem_type, first_request_id, last_request_id,
                   last_path, last_detail)
            VALUES (:bucket, :kind, :firstAt, :lastAt, :count, :tokenId, :actor, :role, :fingerprint, :method, :route,
                   (SELECT name FROM model WHERE name = :model), :status, :type, :firstRequestId, :lastRequestId, :path,
                   :detail)
            ON CONFLICT (bucket, kind, (COALESCE(actor_token_id, 0)), (COALESCE(actor_name, '')),
                   (COALESCE(token_fingerprint, '')), method, route, problem_type, (COALESCE(model, '')))
            DO UPDATE SET count = audit_refusal.count + EXCLUDED.count,
                   first_at = LEAST(audit_refusal.first_at, EXCLUDED.first_at),
                   first_request_id = CASE WHEN EXCLUDED.first_at < audit_refusal.first_at
                       THEN EXCLUDED.first_request_id ELSE audit_refusal.first_request_id END,
                   last_at = GREATEST(audit_refusal.last_at, EXCLUDED.last_at),
                   actor_role = CASE WHEN EXCLUDED.last_at >= audit_refusal.last_at
                       THEN EXCLUDED.actor_role ELSE audit_refusal.actor_role END,
                   status = CASE WHEN EXCLUDED.last_at >= audit_refusal.last_at
                       THEN EXCLUDED.status ELSE audit_refusal.status END,
                   last_request_id = CASE WHEN EXCLUDED.last_at >= audit_refusal.last_at
                       THEN EXCLUDED.last_request_id ELSE audit_refusal.last_request_id END,
                   last_path = CASE WHEN EXCLUDED.last_at >= audit_refusal.last_at
                       THEN EXCLUDED.last_path ELSE audit_refusal.last_path END,
                   last_detail = CASE WHEN EXCLUDED.last_at >= audit_refusal.last_at
                       THEN EXCLUDED.last_detail ELSE audit_refusal.last_detail END""";

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final Clock clock = Clock.systemUTC();
    private final ConcurrentHashMap<Key, Counted> pending = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    /** The fingerprints counted this hour ({@link #MAX_FINGERPRINTS_PER_HOUR}); guarded by itself. */
    private final Set<String> fingerprints = new java.util.HashSet<>();
    private OffsetDateTime fingerprintHour;

    RefusedWrites(JdbcClient jdbc, PlatformTransactionManager transactions) {
        this.jdbc = jdbc;
        this.transaction = new TransactionTemplate(transactions);
    }

    /** Counts {@code r} in memory, for its hour's row ({@link #flush}), and logs it at once. */
    void record(Refusal r) {
        String path = clip(r.path());
        String detail = clip(r.detail());
        OffsetDateTime now = OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC);
        OffsetDateTime hour = now.truncatedTo(ChronoUnit.HOURS);
        Caller actor = r.actor();
        String fingerprint = r.tokenFingerprint() == null ? null : counted(hour, r.tokenFingerprint());
        Key key = new Key(hour, r.kind(), actor == null ? null : actor.tokenId(), actor == null ? null : actor.name(),
                fingerprint, r.method(), r.route(), r.problemType(), clip(r.model()));
        if (pending.size() >= MAX_PENDING && !pending.containsKey(key)) flush();
        String role = actor == null ? null : actor.role().wireName();
        Counted one = new Counted(1, now, r.requestId(), now, sequence.incrementAndGet(), role, r.status(),
                r.requestId(), path, detail);
        pending.merge(key, one, Counted::then);
        // the line names the token as presented (its fingerprint), also when the row counts it under 'other'
        LOG.info("refused status={} type={} method={} route={} path={} actor={} actorTokenId={} actorRole={} kind={}"
                        + " tokenFingerprint={} detail={} requestId={}", r.status(), Audit.value(r.problemType()),
                r.method(), Audit.value(r.route()), Audit.value(path), Audit.value(actor == null ? null : actor.name()),
                actor == null || actor.tokenId() == null ? "-" : actor.tokenId(), role == null ? "-" : role,
                r.kind().wire, Audit.value(r.tokenFingerprint()), Audit.value(detail), Audit.value(r.requestId()));
    }

    /**
     * The fingerprint a 401's row is counted under: its own while this hour has seen fewer than
     * {@link #MAX_FINGERPRINTS_PER_HOUR} (on this instance), else {@link #OTHER_TOKENS}.
     */
    private String counted(OffsetDateTime hour, String fingerprint) {
        synchronized (fingerprints) {
            if (!hour.equals(fingerprintHour)) {
                fingerprints.clear();
                fingerprintHour = hour;
            }
            if (fingerprints.contains(fingerprint)) return fingerprint;
            if (fingerprints.size() >= MAX_FINGERPRINTS_PER_HOUR) return OTHER_TOKENS;
            fingerprints.add(fingerprint);
            return fingerprint;
        }
    }

    /** Starts this hour's fingerprints over: for tests, which share one registry and its hour. */
    void forgetFingerprints() {
        synchronized (fingerprints) {
            fingerprints.clear();
        }
    }

    /**
     * A bearer token that did not authenticate, as the trail names it: {@code sha256:} and the first
     * {@link #FINGERPRINT_HEX} hex digits of its SHA-256, the hash {@code api_token.token_sha256} keeps in full (so a
     * revoked token's row is found with {@code token_sha256 LIKE '<digits>%'}). Never the token: 48 bits of the hash
     * of a minted token (256 random bits) tell nothing of it. A short human-chosen string (a mistyped bootstrap admin
     * token) could be guessed from them offline, as from any hash.
     */
    static String fingerprint(String token) {
        return "sha256:" + io.aneforge.registry.auth.Tokens.sha256Hex(token).substring(0, FINGERPRINT_HEX);
    }

    /**
     * Adds the refusals counted in memory to their rows, in one transaction; if it fails they stay counted for the
     * next flush. One flush at a time.
     */
    // The placeholder, like the job sweeper's, rather than an expression naming AuditProperties' generated bean name
    // (which a rename or move of that class would silently break); AuditProperties checks the same setting's range at
    // startup and defaults it to the same 5s.
    @Scheduled(fixedDelayString = "${aneforge.audit.refusal-flush-interval:5s}")
    synchronized void flush() {
        if (pending.isEmpty()) return;
        Map<Key, Counted> taken = new HashMap<>();
        for (Key key : List.copyOf(pending.keySet())) {
            Counted c = pending.remove(key);
            if (c != null) taken.put(key, c);
        }
        List<Map.Entry<Key, Counted>> ordered = new ArrayList<>(taken.entrySet());
        ordered.sort(Comparator.comparingLong(e -> e.getValue().lastSequence()));
        try {
            transaction.executeWithoutResult(status -> {
                for (Map.Entry<Key, Counted> e : ordered) upsert(e.getKey(), e.getValue());
            });
        } catch (RuntimeException e) {
            taken.forEach((key, c) -> pending.merge(key, c, Counted::then));
            log.warn("refused writes not yet added to the audit trail ({} row(s) kept in memory for the next try): {}",
                    taken.size(), e.toString());
        }
    }

    private void upsert(Key k, Counted c) {
        jdbc.sql(UPSERT)
                .param("bucket", k.hour())
                .param("kind", k.kind().wire)
                .param("firstAt", c.firstAt())
                .param("lastAt", c.lastAt())
                .param("count", c.count())
                .param("tokenId", k.tokenId(), java.sql.Types.BIGINT)
                .param("actor", k.actor(), java.sql.Types.VARCHAR)
                .param("role", c.role(), java.sql.Types.VARCHAR)
                .param("fingerprint", k.fingerprint(), java.sql.Types.VARCHAR)
                .param("method", k.method())
                .param("route", k.route())
                .param("model", k.model(), java.sql.Types.VARCHAR)
                .param("status", c.status())
                .param("type", k.problemType())
                .param("firstRequestId", c.firstRequestId(), java.sql.Types.VARCHAR)
                .param("lastRequestId", c.lastRequestId(), java.sql.Types.VARCHAR)
                .param("path", c.lastPath())
                .param("detail", c.lastDetail(), java.sql.Types.VARCHAR)
                .update();
    }

    /** How long stopping waits for the last flush: a database that does not answer must not hold the shutdown. */
    static final Duration SHUTDOWN_FLUSH_WAIT = Duration.ofSeconds(5);

    /**
     * The last flush, on stopping, waited for at most {@link #SHUTDOWN_FLUSH_WAIT}: with the database gone, taking a
     * connection would wait for the pool's connection timeout (30 s by default), most of a pod's termination grace
     * period. Counts not written then are lost (their {@code aneforge.audit.refused} lines are not) and a warning says
     * how many.
     */
    @PreDestroy
    void flushOnShutdown() throws InterruptedException {
        int waiting = pending.size();
        if (waiting == 0) return;
        Thread last = new Thread(this::flush, "refused-writes-last-flush");
        last.setDaemon(true); // the JVM may exit while it still waits for a connection
        last.start();
        last.join(SHUTDOWN_FLUSH_WAIT.toMillis());
        if (last.isAlive()) {
            log.warn("refused writes: the last flush did not finish within {}s of stopping; {} row(s) of refusal counts"
                    + " may be lost (every refused request has its aneforge.audit.refused log line)",
                    SHUTDOWN_FLUSH_WAIT.toSeconds(), waiting);
        }
    }

    /** A page of rows, after adding the refusals counted in memory ({@link #flush}): a read sees every refusal. */
    Page page(Query q) {
        OffsetDateTime since = AuditEvents.since(q.since());
        Long before = q.before() == null ? null : AuditEvents.number("before", q.before(), 1, Long.MAX_VALUE);
        int limit = q.limit() == null ? AuditEvents.DEFAULT_LIMIT
                : (int) AuditEvents.number("limit", q.limit(), 1, AuditEvents.MAX_LIMIT);
        Kind kind = q.kind() == null ? null : Kind.fromWire(q.kind());
        Long status = q.status() == null ? null : AuditEvents.number("status", q.status(), 100, 599);
        flush();
        StringBuilder sql = new StringBuilder("SELECT id, kind, bucket, first_at, last_at, count, actor_token_id,"
                + " actor_name, actor_role, token_fingerprint, method, route, model, status, problem_type,"
                + " first_request_id, last_request_id, last_path, last_detail FROM audit_refusal WHERE true");
        List<Object> params = new ArrayList<>();
        if (kind != null) {
            sql.append(" AND kind = ?");
            params.add(kind.wire);
        }
        if (status != null) {
            sql.append(" AND status = ?");
            params.add(status.intValue());
        }
        if (q.tokenFingerprint() != null) {
            sql.append(" AND token_fingerprint = ?");
            params.add(q.tokenFingerprint());
        }
        if (q.model() != null) {
            sql.append(" AND model = ?");
            params.add(q.model());
        }
        if (q.problemType() != null) {
            sql.append(" AND problem_type = ?");
            params.add(q.problemType());
        }
        if (q.requestId() != null) {
            sql.append(" AND (first_request_id = ? OR last_request_id = ?)");
            params.add(q.requestId());
            params.add(q.requestId());
        }
        if (since != null) {
            // a row is refusals up to its last one: one still counting is found by a since after its start
            sql.append(" AND last_at >= ?");
            params.add(since);
        }
        if (before != null) {
            sql.append(" AND id < ?");
            params.add(before);
        }
        sql.append(" ORDER BY id DESC LIMIT ?");
        params.add(limit + 1);
        List<RefusalRow> rows = jdbc.sql(sql.toString()).params(params)
                .query((rs, i) -> new RefusalRow(rs.getLong("id"), rs.getString("kind"),
                        rs.getObject("bucket", OffsetDateTime.class), rs.getObject("first_at", OffsetDateTime.class),
                        rs.getObject("last_at", OffsetDateTime.class), rs.getLong("count"),
                        rs.getObject("actor_token_id", Long.class), rs.getString("actor_name"),
                        rs.getString("actor_role"), rs.getString("token_fingerprint"), rs.getString("method"), rs.getString("route"), rs.getString("model"),
                        rs.getInt("status"), rs.getString("problem_type"), rs.getString("first_request_id"),
                        rs.getString("last_request_id"), rs.getString("last_path"), rs.getString("last_detail")))
                .list();
        if (rows.size() <= limit) return new Page(rows, null);
        List<RefusalRow> page = rows.subList(0, limit);
        return new Page(List.copyOf(page), page.get(limit - 1).id());
    }

    /**
     * Deletes rows whose last refusal is older than {@code keep}, at most {@code batch} per statement and
     * {@code maxBatches} statements (each its own transaction); returns how many.
     */
    long prune(Duration keep, int batch, int maxBatches) {
        long total = 0;
        int deleted;
        int batches = 0;
        do {
            deleted = jdbc.sql("DELETE FROM audit_refusal WHERE id IN (SELECT id FROM audit_refusal"
                            + " WHERE last_at < now() - make_interval(secs => ?) ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)")
                    .params((double) keep.toSeconds(), batch).update();
            total += deleted;
            batches++;
        } while (deleted == batch && batches < maxBatches);
        return total;
    }

    private static String clip(String s) {
        return s == null || s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT - 1) + "…";
    }
}

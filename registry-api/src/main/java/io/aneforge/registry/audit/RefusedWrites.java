package io.aneforge.registry.audit;

import io.aneforge.registry.auth.Caller;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The refused half of the audit trail: a write (any method but GET, HEAD and OPTIONS) by an authenticated token that
 * was answered 403 or 409 ({@link #STATUSES}), recorded by {@link RefusedWriteAdvice}. Apart from the audit events
 * ({@link Audit}, changes that committed), so that neither {@code GET /api/v1/audit} nor the {@code aneforge.audit}
 * lines ever show a refusal as a done write: rows in {@code audit_refusal} (V29), read with
 * {@code GET /api/v1/audit/refusals}, and a line per refusal on the logger {@code aneforge.audit.refused}.
 *
 * <p>A row counts the refusals of one hour (UTC) per token, method, endpoint (path pattern), problem type and model
 * (the path's, when it exists), with the first and the last request's id, path and detail: a flood of refused
 * requests adds to a count, not rows, and rows are deleted {@code aneforge.audit.refusal-retention} after their last
 * refusal ({@link AuditPruning}). Each refusal's own request id is in its log line.
 */
@Component
class RefusedWrites {

    private static final Logger LOG = LoggerFactory.getLogger("aneforge.audit.refused");

    /** The answers recorded: refused for who is asking (403) or for the state of what it asked to change (409). */
    static final Set<Integer> STATUSES = Set.of(403, 409);
    /** Longest path and detail kept: they may carry what a client sent, which must not grow a row without bound. */
    static final int MAX_TEXT = 1000;

    /** One refused request, as {@link RefusedWriteAdvice} saw it; {@code model} the path's, or null. */
    record Refusal(Caller actor, String method, String route, String path, String model, int status, String problemType,
                   String detail, String requestId) {}

    /** One row: an hour's refusals of one token, endpoint, problem type and model. */
    record RefusalRow(long id, OffsetDateTime hour, OffsetDateTime firstAt, OffsetDateTime lastAt, long count,
                      Long actorTokenId, String actor, String actorRole, String method, String route, String model,
                      int status, String problemType, String firstRequestId, String lastRequestId, String lastPath,
                      String lastDetail) {}

    /** A page; {@code nextBefore}: pass it as {@code before} for the next (older) page, null when this is the last. */
    record Page(List<RefusalRow> refusals, Long nextBefore) {}

    /** The query as given (each parameter optional, as text: a malformed one is a 400 naming it). */
    record Query(String model, String problemType, String requestId, String since, String before, String limit) {}

    private static final String UPSERT = """
            INSERT INTO audit_refusal (bucket, actor_token_id, actor_name, actor_role, method, route, model, status,
                   problem_type, first_request_id, last_request_id, last_path, last_detail)
            VALUES (date_trunc('hour', now(), 'UTC'), :tokenId, :actor, :role, :method, :route,
                   (SELECT name FROM model WHERE name = :model), :status, :type, :requestId, :requestId, :path, :detail)
            ON CONFLICT (bucket, (COALESCE(actor_token_id, 0)), actor_name, method, route, problem_type,
                   (COALESCE(model, '')))
            DO UPDATE SET count = audit_refusal.count + 1, last_at = now(), actor_role = EXCLUDED.actor_role,
                   status = EXCLUDED.status, last_request_id = EXCLUDED.last_request_id,
                   last_path = EXCLUDED.last_path, last_detail = EXCLUDED.last_detail
            RETURNING count""";

    private final JdbcClient jdbc;

    RefusedWrites(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Counts {@code r} in its hour's row (one statement, on its own: the refused write's transaction, if it had one, was
     * rolled back) and logs it.
     */
    void record(Refusal r) {
        String path = clip(r.path());
        String detail = clip(r.detail());
        long count = jdbc.sql(UPSERT)
                .param("tokenId", r.actor().tokenId(), java.sql.Types.BIGINT)
                .param("actor", r.actor().name())
                .param("role", r.actor().role().wireName())
                .param("method", r.method())
                .param("route", r.route())
                .param("model", r.model(), java.sql.Types.VARCHAR)
                .param("status", r.status())
                .param("type", r.problemType())
                .param("requestId", r.requestId(), java.sql.Types.VARCHAR)
                .param("path", path)
                .param("detail", detail, java.sql.Types.VARCHAR)
                .query(Long.class).single();
        LOG.info("refused status={} type={} method={} route={} path={} actor={} actorTokenId={} actorRole={} detail={}"
                        + " countThisHour={} requestId={}", r.status(), Audit.value(r.problemType()), r.method(),
                Audit.value(r.route()), Audit.value(path), Audit.value(r.actor().name()),
                r.actor().tokenId() == null ? "-" : r.actor().tokenId(), r.actor().role().wireName(), Audit.value(detail),
                count, Audit.value(r.requestId()));
    }

    Page page(Query q) {
        OffsetDateTime since = AuditEvents.since(q.since());
        Long before = q.before() == null ? null : AuditEvents.number("before", q.before(), 1, Long.MAX_VALUE);
        int limit = q.limit() == null ? AuditEvents.DEFAULT_LIMIT
                : (int) AuditEvents.number("limit", q.limit(), 1, AuditEvents.MAX_LIMIT);
        StringBuilder sql = new StringBuilder("SELECT id, bucket, first_at, last_at, count, actor_token_id, actor_name,"
                + " actor_role, method, route, model, status, problem_type, first_request_id, last_request_id, last_path,"
                + " last_detail FROM audit_refusal WHERE true");
        List<Object> params = new ArrayList<>();
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
                .query((rs, i) -> new RefusalRow(rs.getLong("id"), rs.getObject("bucket", OffsetDateTime.class),
                        rs.getObject("first_at", OffsetDateTime.class), rs.getObject("last_at", OffsetDateTime.class),
                        rs.getLong("count"), rs.getObject("actor_token_id", Long.class), rs.getString("actor_name"),
                        rs.getString("actor_role"), rs.getString("method"), rs.getString("route"), rs.getString("model"),
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

package io.aneforge.registry.audit;

import io.aneforge.registry.problem.ApiProblem;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reads the audit trail ({@code audit_event}) back: newest first, filtered, a page at a time. */
@Component
class AuditEvents {

    /** Every action {@link Audit} records; a filter on another is refused (a misspelt one would match nothing). */
    static final Set<String> ACTIONS = Set.of("token.mint", "token.revoke", "token.scope", "version.publish", "version.yank",
            "variant.yank", "alias.move", "alias.delete", "gates.put", "agent.retire", "accuracy.rerun",
            "model.create", "version.create", "variant.register", "golden.put", "conversion.cancel", "agent.register",
            "agent.restart", "agent.handover", "agent.unretire", "blob.put", "agent.drain", "agent.resume", "job.report");
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 500;

    /** One row; {@code actorTokenId} null: the bootstrap admin token. */
    record AuditEvent(long id, OffsetDateTime at, Long actorTokenId, String actor, String actorRole, String action,
                      String model, Integer version, Long variant, JsonNode detail, String requestId) {}

    /** A page; {@code nextBefore}: pass it as {@code before} for the next (older) page, null when this is the last. */
    record Page(List<AuditEvent> events, Long nextBefore) {}

    /** The query as given (each parameter optional, as text: a malformed one is a 400 naming it). */
    record Query(String model, String action, String requestId, String since, String before, String limit) {}

    private final JdbcClient jdbc;
    private final JsonMapper json;

    AuditEvents(JdbcClient jdbc, JsonMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    Page page(Query q) {
        if (q.action() != null && !ACTIONS.contains(q.action())) {
            throw invalid("parameter 'action' is '" + q.action() + "', not one of " + ACTIONS.stream().sorted().toList());
        }
        OffsetDateTime since = since(q.since());
        Long before = q.before() == null ? null : number("before", q.before(), 1, Long.MAX_VALUE);
        int limit = q.limit() == null ? DEFAULT_LIMIT : (int) number("limit", q.limit(), 1, MAX_LIMIT);

        StringBuilder sql = new StringBuilder("SELECT id, at, actor_token_id, actor_name, actor_role, action, model,"
                + " version, variant, detail::text AS detail, request_id FROM audit_event WHERE true");
        List<Object> params = new ArrayList<>();
        if (q.model() != null) {
            sql.append(" AND model = ?");
            params.add(q.model());
        }
        if (q.action() != null) {
            sql.append(" AND action = ?");
            params.add(q.action());
        }
        if (q.requestId() != null) {
            sql.append(" AND request_id = ?");
            params.add(q.requestId());
        }
        if (since != null) {
            sql.append(" AND at >= ?");
            params.add(since);
        }
        if (before != null) {
            sql.append(" AND id < ?");
            params.add(before);
        }
        // one more than asked: whether an older page exists, without a count
        sql.append(" ORDER BY id DESC LIMIT ?");
        params.add(limit + 1);
        List<AuditEvent> rows = jdbc.sql(sql.toString()).params(params)
                .query((rs, i) -> new AuditEvent(rs.getLong("id"), rs.getObject("at", OffsetDateTime.class),
                        rs.getObject("actor_token_id", Long.class), rs.getString("actor_name"), rs.getString("actor_role"),
                        rs.getString("action"), rs.getString("model"), rs.getObject("version", Integer.class),
                        rs.getObject("variant", Long.class), json.readTree(rs.getString("detail")), rs.getString("request_id")))
                .list();
        if (rows.size() <= limit) return new Page(rows, null);
        List<AuditEvent> page = rows.subList(0, limit);
        return new Page(List.copyOf(page), page.get(limit - 1).id());
    }

    /** {@code since} as given (null: no bound), or a 400 naming it. */
    static OffsetDateTime since(String since) {
        if (since == null) return null;
        try {
            return OffsetDateTime.parse(since.trim());
        } catch (DateTimeParseException e) {
            throw invalid("parameter 'since' is '" + since + "', not an ISO-8601 date-time with an offset"
                    + " (e.g. 2026-11-28T03:00:00Z)");
        }
    }

    static long number(String name, String value, long min, long max) {
        try {
            long n = Long.parseLong(value.trim());
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException e) {
            // the same answer as out of range
        }
        throw invalid("parameter '" + name + "' must be a whole number between " + min + " and " + max + ", got '" + value + "'");
    }

    static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("invalid-query", "Invalid query", detail);
    }
}

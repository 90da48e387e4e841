package io.aneforge.registry.audit;

import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.requestid.RequestIdFilter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one place that records a security-relevant write: a row in {@code audit_event} (V22), inserted in the write's
 * own transaction, and one log line on the logger {@code aneforge.audit} at INFO once that transaction committed. So a
 * row and a line exist exactly when the change committed; a refused or failed write leaves neither (a 403 or 409 is
 * counted apart, by {@link RefusedWrites}, so it is never mistaken for a done write), and so does an idempotent repeat
 * that changed nothing ({@link Outcome}). The actions are {@link AuditEvents#ACTIONS}.
 *
 * <p>The line is {@code key=value} pairs:
 * {@code audit action=alias.move actor=ci-publisher actorTokenId=7 actorRole=publisher target="model m alias production"
 * detail="version: 3, override: false, reason: release" requestId=…}. Values are quoted when they hold anything but
 * plain characters, with quotes, backslashes and line breaks escaped, so a reason cannot forge a second line or another
 * key. The line's target and detail are made from the {@link Event}, as the row is, so the two cannot disagree.
 */
@Component
public class Audit {

    private static final Logger LOG = LoggerFactory.getLogger("aneforge.audit");

    /**
     * One audited change, built by its caller from what it names and what it adds: {@code Event.of("version.yank")
     * .onVersion(model, 2).with("reason", reason)}. The {@code on...} methods set the row's model, version and variant
     * columns and the log line's target together; {@link #with} adds to the row's JSON detail, which the log line's
     * detail repeats in words ({@code key: value}, nulls left out).
     *
     * @param action  what was done ({@code token.mint}, {@code version.yank}, ...: {@link AuditEvents#ACTIONS})
     * @param target  the object, in words, for the log line ({@code "model m version 2"}); null until an {@code on...}
     * @param model   the model changed, or null (tokens, agents)
     * @param version its version, or null
     * @param variant the variant's id, or null
     * @param detail  what changed or why (ids, reason, new gates, ...), in order
     * @param named   detail keys (and {@code version}) the target already says: left out of the line's detail
     */
    public record Event(String action, String target, String model, Integer version, Long variant,
                        Map<String, Object> detail, Set<String> named) {

        public Event {
            if (!AuditEvents.ACTIONS.contains(action)) {
                throw new IllegalStateException("audit action '" + action + "' is not in AuditEvents.ACTIONS, so"
                        + " GET /api/v1/audit?action= could not find it; add it there");
            }
            detail = Collections.unmodifiableMap(new LinkedHashMap<>(detail));
            named = Set.copyOf(named);
        }

        public static Event of(String action) {
            return new Event(action, null, null, null, null, Map.of(), Set.of());
        }

        public Event onModel(String model) {
            return new Event(action, "model " + model, model, null, null, detail, named);
        }

        public Event onVersion(String model, int version) {
            return new Event(action, "model " + model + " version " + version, model, version, null, detail,
                    Set.of("version"));
        }

        public Event onVariant(String model, int version, long variant) {
            return new Event(action, "model " + model + " version " + version + " variant " + variant, model, version,
                    variant, detail, Set.of("version"));
        }

        /** An alias of {@code model}; {@code version} its (new) target or null. */
        public Event onAlias(String model, String alias, Integer version) {
            return new Event(action, "model " + model + " alias " + alias, model, version, null, detail, Set.of())
                    .with("alias", alias).naming("alias");
        }

        public Event onToken(long tokenId) {
            return new Event(action, "token " + tokenId, null, null, null, detail, named).with("tokenId", tokenId)
                    .naming("tokenId");
        }

        public Event onAgent(UUID agentId) {
            return new Event(action, "agent " + agentId, null, null, null, detail, named)
                    .with("agentId", agentId.toString()).naming("agentId");
        }

        /** A blob of the content-addressed store, by its digest's hex. */
        public Event onBlob(String hex) {
            return new Event(action, "blob sha256:" + hex, null, null, null, detail, named).with("digest", "sha256:" + hex)
                    .naming("digest");
        }

        /** A job of a variant: the row carries the variant's model, version and id, so {@code ?model=} finds it. */
        public Event onJob(String model, int version, long variant, long job) {
            return new Event(action, "model " + model + " version " + version + " variant " + variant + " job " + job,
                    model, version, variant, detail, Set.of("version")).with("jobId", job).naming("jobId");
        }

        /** Adds a detail (kept in order; a null value is written as JSON null). */
        public Event with(String key, Object value) {
            Map<String, Object> d = new LinkedHashMap<>(detail);
            d.put(key, value);
            return new Event(action, target, model, version, variant, d, named);
        }

        private Event naming(String key) {
            Set<String> n = new HashSet<>(named);
            n.add(key);
            return new Event(action, target, model, version, variant, detail, n);
        }
    }

    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final JsonMapper json;

    Audit(JdbcClient jdbc, PlatformTransactionManager transactions, JsonMapper json) {
        this.jdbc = jdbc;
        this.tx = new TransactionTemplate(transactions);
        this.json = json;
    }

    /**
     * Runs {@code change} in a transaction (the service's own {@code @Transactional} joins it) and records
     * {@code event(result)} in the same one: when the change throws, it is rolled back and nothing is recorded.
     */
    public <T> T record(Caller actor, Supplier<T> change, Function<T, Event> event) {
        return tx.execute(status -> {
            T result = change.get();
            record(actor, event.apply(result));
            return result;
        });
    }

    /**
     * What a write that may find nothing to do returns: its answer, and whether it changed anything. An idempotent
     * repeat (revoking a revoked token, yanking a yanked version) answers as the first call did but did not happen
     * again, so it is not audited again.
     */
    public record Outcome<T>(T result, boolean changed) {}

    /** Like {@link #record(Caller, Supplier, Function)}, recording only when the outcome says the change happened. */
    public <T> T recordIfChanged(Caller actor, Supplier<Outcome<T>> change, Function<T, Event> event) {
        return tx.execute(status -> {
            Outcome<T> outcome = change.get();
            if (outcome.changed()) record(actor, event.apply(outcome.result()));
            return outcome.result();
        });
    }

    /** Records {@code event} in the running transaction (a service's {@code @Transactional} method calls it). */
    public void record(Caller actor, Event event) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalStateException("audit event " + event.action() + " outside a transaction: it would not"
                    + " commit or roll back with its change");
        }
        if (event.target() == null) {
            throw new IllegalStateException("audit event " + event.action() + " names no target: call one of Event.on...");
        }
        String requestId = MDC.get(RequestIdFilter.MDC_KEY);
        jdbc.sql("INSERT INTO audit_event (actor_token_id, actor_name, actor_role, action, model, version, variant,"
                        + " detail, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), ?)")
                .params(actor.tokenId(), actor.name(), actor.role().wireName(), event.action(), event.model(),
                        event.version(), event.variant(), json.writeValueAsString(event.detail()), requestId)
                .update();
        String text = text(event); // now: nothing after the commit can fail but the logging itself
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                log(actor, event.action(), event.target(), text, requestId);
            }
        });
    }

    /**
     * The line's detail: the version when the target does not say it, then each detail the target does not say, as
     * {@code key: value} (text as it is, numbers and booleans as written, anything else as JSON), nulls left out.
     */
    String text(Event event) {
        List<String> parts = new ArrayList<>();
        if (event.version() != null && !event.named().contains("version")) parts.add("version: " + event.version());
        event.detail().forEach((key, v) -> {
            if (v == null || event.named().contains(key)) return;
            parts.add(key + ": " + (v instanceof String || v instanceof Number || v instanceof Boolean
                    ? v.toString() : json.writeValueAsString(v)));
        });
        return parts.isEmpty() ? null : String.join(", ", parts);
    }

    private static void log(Caller actor, String action, String target, String detail, String requestId) {
        LOG.info("audit action={} actor={} actorTokenId={} actorRole={} target={} detail={} requestId={}", action,
                value(actor.name()), actor.tokenId() == null ? "-" : actor.tokenId(), actor.role().wireName(), value(target),
                value(detail), value(requestId));
    }

    /** A value as it appears after {@code key=}: bare when plain, else quoted with \ " and line breaks escaped. */
    static String value(String v) {
        if (v == null) return "-";
        if (!v.isEmpty() && v.chars().allMatch(c -> Character.isLetterOrDigit(c) || "._:-@/#".indexOf(c) >= 0)) return v;
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return sb.append('"').toString();
    }
}

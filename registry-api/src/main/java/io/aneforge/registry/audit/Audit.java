package io.aneforge.registry.audit;

import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.requestid.RequestIdFilter;
import java.util.LinkedHashMap;
import java.util.Map;
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
 * The one place that records a security-relevant write (token minted or revoked, version published or yanked,
 * variant yanked, alias moved or deleted, gates changed, agent retired, accuracy jobs queued again): a row in
 * {@code audit_event} (V22), inserted in the write's own transaction, and one log line on the logger
 * {@code aneforge.audit} at INFO once that transaction committed. So a row and a line exist exactly when the change
 * committed; a refused or failed write (403, 409, ...) leaves neither (its problem answer and the request id say
 * what happened), and so does an idempotent repeat that changed nothing ({@link Outcome}).
 *
 * <p>The line is {@code key=value} pairs:
 * {@code audit action=alias.move actor=ci-publisher actorTokenId=7 actorRole=publisher target="model m alias production"
 * detail="version 3, reason: release" requestId=…}. Values are quoted when they hold anything but plain characters,
 * with quotes, backslashes and line breaks escaped, so a reason cannot forge a second line or another key.
 */
@Component
public class Audit {

    private static final Logger LOG = LoggerFactory.getLogger("aneforge.audit");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * One audited change.
     *
     * @param action  what was done ({@code token.mint}, {@code version.yank}, ...: {@link AuditEvents#ACTIONS})
     * @param target  the object, in words, for the log line ({@code "model m version 2"})
     * @param text    what changed or why, in words, for the log line, or null
     * @param model   the model changed, or null (tokens, agents)
     * @param version its version, or null
     * @param variant the variant's id, or null
     * @param detail  the same facts as {@code text}, as the row's JSON (ids, reason, new gates, ...)
     */
    public record Event(String action, String target, String text, String model, Integer version, Long variant,
                        Map<String, Object> detail) {

        public static Event of(String action, String target, String text) {
            return new Event(action, target, text, null, null, null, new LinkedHashMap<>());
        }

        public Event on(String model, Integer version, Long variant) {
            return new Event(action, target, text, model, version, variant, detail);
        }

        /** Adds a detail (kept in order; a null value is written as JSON null). */
        public Event with(String key, Object value) {
            Map<String, Object> d = new LinkedHashMap<>(detail);
            d.put(key, value);
            return new Event(action, target, text, model, version, variant, d);
        }
    }

    private final JdbcClient jdbc;
    private final TransactionTemplate tx;

    Audit(JdbcClient jdbc, PlatformTransactionManager transactions) {
        this.jdbc = jdbc;
        this.tx = new TransactionTemplate(transactions);
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
        String requestId = MDC.get(RequestIdFilter.MDC_KEY);
        jdbc.sql("INSERT INTO audit_event (actor_token_id, actor_name, actor_role, action, model, version, variant,"
                        + " detail, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), ?)")
                .params(actor.tokenId(), actor.name(), actor.role().wireName(), event.action(), event.model(),
                        event.version(), event.variant(), JSON.writeValueAsString(event.detail()), requestId)
                .update();
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                log(actor, event.action(), event.target(), event.text(), requestId);
            }
        });
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

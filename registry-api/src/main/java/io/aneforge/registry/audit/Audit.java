package io.aneforge.registry.audit;

import io.aneforge.registry.auth.Caller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line per security-relevant write (token minted or revoked, version or variant yanked, alias moved,
 * gates changed), on the logger {@code aneforge.audit} at INFO, as {@code key=value} pairs:
 * {@code audit action=alias.move actor=ci-publisher actorTokenId=7 actorRole=publisher target="model m alias production"
 * detail="version 3, reason: release" requestId=…}. Written by the controllers after the service call
 * returned (the write committed), so a refused or failed write leaves no line (its problem answer and the
 * request id say what happened). Values are quoted when they hold anything but plain characters, with quotes,
 * backslashes and line breaks escaped, so a reason cannot forge a second line or another key.
 */
public final class Audit {

    private static final Logger LOG = LoggerFactory.getLogger("aneforge.audit");

    private Audit() {}

    /**
     * @param action what was done ({@code token.mint}, {@code token.revoke}, {@code version.yank},
     *               {@code variant.yank}, {@code alias.move}, {@code gates.put})
     * @param target the object, in words ({@code "model m version 2"})
     * @param detail what changed or why (the reason given), or null
     */
    public static void log(Caller actor, String action, String target, String detail) {
        LOG.info("audit action={} actor={} actorTokenId={} actorRole={} target={} detail={} requestId={}", action,
                value(actor.name()), actor.tokenId() == null ? "-" : actor.tokenId(), actor.role().wireName(), value(target),
                value(detail), value(org.slf4j.MDC.get("requestId")));
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

package io.aneforge.registry.audit;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;

/**
 * {@code aneforge.audit.*} (application.yml, environment {@code ANEFORGE_AUDIT_*}), checked when the registry starts.
 *
 * @param retention how long audit events are kept; older ones are deleted by {@link AuditPruning}. Null (unset, the
 *     default): kept for ever, nothing is deleted. At least a day: a bare number is milliseconds to Spring
 *     ({@code ANEFORGE_AUDIT_RETENTION=90} would be 90 ms, the whole trail), so short values are refused rather than
 *     obeyed, and the database refuses them too (V25, {@code audit_event_prune}).
 * @param refusalRetention how long refused writes ({@code audit_refusal}, V29) are kept after their last refusal;
 *     older rows are deleted by {@link AuditPruning}. Unset: {@link #DEFAULT_REFUSAL_RETENTION}. Never "for ever":
 *     that is what keeps a flood of refused requests from growing the table without end. At least a day, as above.
 * @param refusalFlushInterval how often refusals counted in memory are added to their rows ({@link RefusedWrites});
 *     unset: {@link #DEFAULT_REFUSAL_FLUSH_INTERVAL}. Positive, at most an hour (the rows count hours). Bound here so
 *     that a malformed value stops the registry with a report naming it ({@link RefusedWrites#flush} is scheduled by it).
 */
@ConfigurationProperties("aneforge.audit")
public record AuditProperties(Duration retention, Duration refusalRetention, Duration refusalFlushInterval) {

    static final Duration DEFAULT_REFUSAL_FLUSH_INTERVAL = Duration.ofSeconds(5);

    static final Duration MIN_RETENTION = Duration.ofDays(1);
    static final Duration DEFAULT_REFUSAL_RETENTION = Duration.ofDays(30);

    public AuditProperties {
        if (retention != null && retention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException("aneforge.audit.retention (ANEFORGE_AUDIT_RETENTION) must be at least 1d"
                    + " (e.g. 365d; a bare number is milliseconds), or unset to keep every audit event; got " + retention);
        }
        if (refusalRetention == null) refusalRetention = DEFAULT_REFUSAL_RETENTION;
        if (refusalRetention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException("aneforge.audit.refusal-retention (ANEFORGE_AUDIT_REFUSAL_RETENTION) must"
                    + " be at least 1d (e.g. 90d; a bare number is milliseconds), or unset for "
                    + DEFAULT_REFUSAL_RETENTION.toDays() + "d; got " + refusalRetention);
        }
        if (refusalFlushInterval == null) refusalFlushInterval = DEFAULT_REFUSAL_FLUSH_INTERVAL;
        if (refusalFlushInterval.isNegative() || refusalFlushInterval.isZero()
                || refusalFlushInterval.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("aneforge.audit.refusal-flush-interval"
                    + " (ANEFORGE_AUDIT_REFUSAL_FLUSH_INTERVAL) must be more than 0 and at most 1h (e.g. 5s), or unset for "
                    + DEFAULT_REFUSAL_FLUSH_INTERVAL.toSeconds() + "s; got " + refusalFlushInterval);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(AuditProperties.class)
    static class Enable {}
}

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
 */
@ConfigurationProperties("aneforge.audit")
public record AuditProperties(Duration retention) {

    static final Duration MIN_RETENTION = Duration.ofDays(1);

    public AuditProperties {
        if (retention != null && retention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException("aneforge.audit.retention (ANEFORGE_AUDIT_RETENTION) must be at least 1d"
                    + " (e.g. 365d; a bare number is milliseconds), or unset to keep every audit event; got " + retention);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(AuditProperties.class)
    static class Enable {}
}

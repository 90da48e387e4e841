package io.aneforge.worker.actuator;

import io.aneforge.actuator.ActuatorTokenFilter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * The worker's optional metrics token ({@code aneforge.worker.metrics-token}, env
 * {@code ANEFORGE_WORKER_METRICS_TOKEN}): when set, every actuator path but health and info ({@code /actuator/prometheus}
 * above all) needs {@code Authorization: Bearer <it>}, by the registry's rule ({@link ActuatorTokenFilter}). The
 * worker has no token store, so it is one shared secret the scraper and the worker are both given. Unset, the
 * endpoints stay open as before: the worker's port is not published by compose and its Service is headless, so a
 * closed network is the other way to keep them private.
 */
@Configuration(proxyBeanMethods = false)
class MetricsTokenConfiguration {

    private static final Logger log = LoggerFactory.getLogger(MetricsTokenConfiguration.class);

    @Bean
    FilterRegistrationBean<ActuatorTokenFilter> metricsTokenFilter(
            @Value("${aneforge.worker.metrics-token:}") String configured) {
        String token = configured.trim();
        byte[] expected = token.getBytes(StandardCharsets.UTF_8);
        ActuatorTokenFilter filter = new ActuatorTokenFilter(
                // constant time: the comparison must not tell a caller how much of a guess was right
                given -> MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected),
                "send 'Authorization: Bearer <token>' with the worker's metrics token (ANEFORGE_WORKER_METRICS_TOKEN)",
                "the bearer token is not this worker's metrics token (ANEFORGE_WORKER_METRICS_TOKEN)");
        FilterRegistrationBean<ActuatorTokenFilter> registration = new FilterRegistrationBean<>(filter);
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 1);
        registration.setEnabled(!token.isEmpty());
        if (token.isEmpty()) {
            log.info("/actuator/prometheus needs no token (ANEFORGE_WORKER_METRICS_TOKEN is not set): keep the worker's"
                    + " actuator port off shared networks");
        }
        return registration;
    }
}

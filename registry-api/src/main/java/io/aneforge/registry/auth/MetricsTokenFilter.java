package io.aneforge.registry.auth;

import io.aneforge.actuator.ActuatorTokenFilter;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/prometheus} (every actuator endpoint but health and info) needs a bearer token, any valid one (a
 * {@code reader} token for the scraper will do), like the rest of the API. Open, it gave anyone who can reach the
 * registry (compose publishes its port, the Helm ingress routes {@code /actuator/*}) what health hides since it needs
 * no token: the data directory, disk sizes, and per-endpoint request counts and timings. Which paths are guarded, and
 * how the path is read ({@code ;x=1}, {@code %70rometheus}), is {@link ActuatorTokenFilter}'s rule, shared with the
 * converter worker.
 */
@Component
// After the request-id filter (HIGHEST_PRECEDENCE) and beside the resolve fast path (+ 1), which serves other paths.
@Order(Ordered.HIGHEST_PRECEDENCE + 2)
class MetricsTokenFilter extends ActuatorTokenFilter {

    MetricsTokenFilter(Tokens tokens) {
        super(token -> tokens.authenticate(token).isPresent(),
                "send 'Authorization: Bearer <token>' (any role; a reader token for the scraper); tokens are minted by"
                        + " an admin with POST /api/v1/tokens",
                "the bearer token is unknown or revoked");
    }
}

package io.aneforge.registry.auth;

import io.aneforge.registry.problem.ApiProblem;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * {@code /actuator/prometheus} (every actuator endpoint but health and info) needs a bearer token, any valid one (a {@code reader} token for the scraper will
 * do), like the rest of the API. Open, it gave anyone who can reach the registry (compose publishes its port, the
 * Helm ingress routes {@code /actuator/*}) what health hides since it needs no token: the data directory, disk
 * sizes, and per-endpoint request counts and timings. Health and info stay open: the probes and a rollout check
 * read them without a token and they show no details.
 *
 * <p>A servlet filter rather than {@link TokenInterceptor}: actuator endpoints are not Spring MVC handler methods
 * and never reach the API's interceptors.
 */
@Component
// After the request-id filter (HIGHEST_PRECEDENCE) and beside the resolve fast path (+ 1), which serves other paths.
@Order(Ordered.HIGHEST_PRECEDENCE + 2)
class MetricsTokenFilter extends OncePerRequestFilter {

    static final String PATH = "/actuator/prometheus";
    private static final String ACTUATOR = "/actuator";

    private final Tokens tokens;

    MetricsTokenFilter(Tokens tokens) {
        this.tokens = tokens;
    }

    /**
     * Every actuator path but health and info needs the token. Decided on the path the container serves, which it
     * has percent-decoded, normalized and stripped of {@code ;} parameters (servlet path + path info), never on the
     * raw request URI: {@code /actuator/prometheus;x=1} and {@code /actuator/%70rometheus} reach the same endpoint,
     * and a check on the raw URI let both through without a token. Everything not named open is guarded, so an
     * endpoint exposed later is guarded too.
     */
    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        if (!(path.equals(ACTUATOR) || path.startsWith(ACTUATOR + "/"))) {
            return true;
        }
        return path.equals(ACTUATOR + "/health") || path.startsWith(ACTUATOR + "/health/") || path.equals(ACTUATOR + "/info");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
            refuse(response, "unauthenticated", "Authentication required", "send 'Authorization: Bearer <token>' (any"
                    + " role; a reader token for the scraper); tokens are minted by an admin with POST /api/v1/tokens");
            return;
        }
        if (tokens.authenticate(header.substring(7).trim()).isEmpty()) {
            refuse(response, "invalid-token", "Invalid token", "the bearer token is unknown or revoked");
            return;
        }
        chain.doFilter(request, response);
    }

    /** The same problem the API answers for a missing or bad token (types and wording of TokenInterceptor). */
    private static void refuse(HttpServletResponse response, String slug, String title, String detail)
            throws IOException {
        byte[] body = ("{\"type\":\"" + ApiProblem.TYPE_BASE + slug + "\",\"title\":\"" + title
                + "\",\"status\":401,\"detail\":\"" + detail + "\",\"instance\":\"" + PATH + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
        response.setHeader("WWW-Authenticate", "Bearer");
        response.setContentType("application/problem+json");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}

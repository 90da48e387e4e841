package io.aneforge.actuator;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Every actuator path but health and info needs {@code Authorization: Bearer <token>}, checked by {@code accepts};
 * without one, or with one it refuses, the answer is 401 problem+json. The registry (any API token) and the converter
 * worker (its {@code ANEFORGE_WORKER_METRICS_TOKEN}) share this rule, so the path spellings it guards cannot drift
 * apart between them. Health and info stay open: probes and rollout checks read them without a token and they show
 * no details.
 *
 * <p>A servlet filter: actuator endpoints are not Spring MVC handler methods and never reach MVC interceptors.
 */
public class ActuatorTokenFilter extends OncePerRequestFilter {

    /**
     * Prefix of every ANE Forge problem {@code type} URI ({@code <base><slug>}): the registry's API problems and this
     * filter's 401s, in the registry and the converter worker alike, so a scraper sees the same answer from both.
     */
    public static final String PROBLEM_TYPE_BASE = "https://aneforge.io/problems/";

    private static final String ACTUATOR = "/actuator";

    private final Predicate<String> accepts;
    private final String missingDetail;
    private final String refusedDetail;

    /**
     * @param accepts whether a bearer token (trimmed, never blank) may read the guarded endpoints
     * @param missingDetail the problem's detail without a token: how to get and send one
     * @param refusedDetail the problem's detail for a token {@code accepts} refuses
     */
    public ActuatorTokenFilter(Predicate<String> accepts, String missingDetail, String refusedDetail) {
        this.accepts = accepts;
        this.missingDetail = missingDetail;
        this.refusedDetail = refusedDetail;
    }

    /**
     * Decided on the path the container serves, which it has percent-decoded, normalized and stripped of {@code ;}
     * parameters (servlet path + path info), never on the raw request URI: {@code /actuator/prometheus;x=1} and
     * {@code /actuator/%70rometheus} reach the same endpoint, and a check on the raw URI let both through without a
     * token. Everything not named open is guarded, so an endpoint exposed later is guarded too.
     */
    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = servedPath(request);
        if (!(path.equals(ACTUATOR) || path.startsWith(ACTUATOR + "/"))) {
            return true;
        }
        return path.equals(ACTUATOR + "/health") || path.startsWith(ACTUATOR + "/health/") || path.equals(ACTUATOR + "/info");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
            refuse(request, response, "unauthenticated", "Authentication required", missingDetail);
            return;
        }
        if (!accepts.test(header.substring(7).trim())) {
            refuse(request, response, "invalid-token", "Invalid token", refusedDetail);
            return;
        }
        chain.doFilter(request, response);
    }

    private static String servedPath(HttpServletRequest request) {
        return request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    }

    /** The problem the registry's API answers for a missing or bad token (its types and wording). */
    private void refuse(HttpServletRequest request, HttpServletResponse response, String slug, String title,
            String detail) throws IOException {
        byte[] body = ("{\"type\":\"" + json(PROBLEM_TYPE_BASE + slug) + "\",\"title\":\"" + json(title)
                + "\",\"status\":401,\"detail\":\"" + json(detail) + "\",\"instance\":\"" + json(servedPath(request))
                + "\"}").getBytes(StandardCharsets.UTF_8);
        response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
        response.setHeader("WWW-Authenticate", "Bearer");
        response.setContentType("application/problem+json");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    /** A JSON string's content: the served path is the caller's (decoded) text. */
    private static String json(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}

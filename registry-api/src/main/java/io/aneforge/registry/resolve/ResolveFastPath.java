package io.aneforge.registry.resolve;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.auth.Tokens;
import io.aneforge.registry.problem.ApiProblem;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The fast path for the hottest call, {@code GET /api/v1/models/{name}/resolve}: a servlet filter in
 * front of Spring MVC that authenticates with the same {@link Tokens}, asks the same {@link Resolver}
 * and writes the same bytes and headers as {@link ResolveController}, skipping handler mapping,
 * argument binding and message conversion. Anything unusual (no or bad token, a refusal, a repeated
 * or unknown query parameter) falls through to the MVC path, which renders it; so the MVC controller stays the
 * reference behaviour. Switch: {@code aneforge.resolve-fast-path} (ANEFORGE_RESOLVE_FAST_PATH);
 * {@code ResolveFastPathTest} compares the two paths byte for byte.
 *
 * <p>It runs before the HTTP observation filter, so fast-path answers are timed by its own
 * {@code aneforge.resolve.fast} timer rather than {@code http.server.requests}.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1) // right after RequestIdFilter, so its answers carry an X-Request-Id too
public class ResolveFastPath extends OncePerRequestFilter {

    private static final String PREFIX = "/api/v1/models/";
    private static final String SUFFIX = "/resolve";
    /** The query parameters {@link ResolveController} binds, but {@code signed}: a signed answer is the controller's. */
    private static final Set<String> PARAMETERS = Set.copyOf(ResolveController.CACHEABLE_PARAMETERS);

    private final Tokens tokens;
    private final Resolver resolver;
    private final boolean enabled;
    private final Timer timer;

    ResolveFastPath(Tokens tokens, Resolver resolver, RegistryProperties props, MeterRegistry meters) {
        this.tokens = tokens;
        this.resolver = resolver;
        this.enabled = props.resolveFastPath();
        this.timer = Timer.builder("aneforge.resolve.fast").description("resolve answers served by the fast path")
                .register(meters);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        if (!enabled || !"GET".equals(request.getMethod())) return true;
        String uri = request.getRequestURI();
        return !(uri.startsWith(PREFIX) && uri.endsWith(SUFFIX));
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long start = System.nanoTime();
        if (!handle(request, response)) {
            chain.doFilter(request, response);
            return;
        }
        timer.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** @return false to let the MVC path handle the request */
    boolean handle(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String uri = request.getRequestURI();
        String name = uri.substring(PREFIX.length(), uri.length() - SUFFIX.length());
        if (name.isEmpty() || name.indexOf('/') >= 0 || name.indexOf('%') >= 0 || name.indexOf(';') >= 0) return false;
        // an encoded NUL cannot be looked up (PostgreSQL text holds none): the MVC path refuses it as a 400
        String query = request.getQueryString();
        if (query != null && query.contains("%00")) return false;
        // Only the parameters the controller reads, each once: Spring joins a repeated one ("18.0,1.0") where
        // getParameter takes the first, so anything else is left to the controller to answer.
        for (Map.Entry<String, String[]> p : request.getParameterMap().entrySet()) {
            if (!PARAMETERS.contains(p.getKey()) || p.getValue().length != 1) return false;
        }
        String header = request.getHeader("Authorization");
        if (header == null || header.length() <= 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        // Resolve is open to every role, so a valid token is all the authorization needed.
        if (tokens.authenticate(header.substring(7).trim()).isEmpty()) return false;
        String versionText = request.getParameter("version");
        Integer version = null;
        if (versionText != null) {
            try {
                version = Integer.valueOf(versionText);
            } catch (NumberFormatException e) {
                return false;
            }
        }
        Resolver.Answer a;
        try {
            a = resolver.resolve(name, request.getParameter("alias"), version, request.getParameter("device"),
                    request.getParameter("chip"), request.getParameter("os"), request.getParameter("precision"),
                    request.getParameter("layout"));
        } catch (ApiProblem refusal) {
            return false;
        }
        response.setHeader("ETag", a.etag());
        response.setHeader("Cache-Control", "no-cache");
        String inm = request.getHeader("If-None-Match");
        if (inm != null && (inm.contains(a.etag()) || inm.trim().equals("*"))) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return true;
        }
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("application/json");
        response.setContentLength(a.json().length);
        response.getOutputStream().write(a.json());
        return true;
    }
}

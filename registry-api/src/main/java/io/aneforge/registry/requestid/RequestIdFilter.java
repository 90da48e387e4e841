package io.aneforge.registry.requestid;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.MDC;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Gives every request an id that ties a client's answer to the registry's log lines: the caller's
 * {@code X-Request-Id} when it is a plain token (a proxy's or an app's id), else a new UUID. The id is in the
 * MDC as {@code requestId} while the request runs (structured logs, e.g. {@code LOGGING_STRUCTURED_FORMAT_CONSOLE=ecs},
 * carry every MDC key), in the response's {@code X-Request-Id} header, and in every problem document
 * ({@link RequestIdInProblems}). First of all filters, so even the resolve fast path's answers carry it.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class RequestIdFilter extends OncePerRequestFilter {

    public static final String HEADER = "X-Request-Id";
    public static final String MDC_KEY = "requestId";

    /**
     * What a caller's id may be: it is echoed into headers and written into log lines, so no spaces, quotes or
     * control characters (no header or log-line injection), and not longer than a W3C trace id with room to spare.
     * Anything else is replaced by a new id rather than refused: the id is a correlation aid, never a reason to
     * fail a request.
     */
    static final Pattern ACCEPTED = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String given = request.getHeader(HEADER);
        String id = given != null && ACCEPTED.matcher(given).matches() ? given : UUID.randomUUID().toString();
        MDC.put(MDC_KEY, id);
        response.setHeader(HEADER, id);
        try {
            chain.doFilter(request, response);
        } finally {
            MDC.remove(MDC_KEY);
        }
    }

    /** The id of the request this thread serves, or null outside a request. */
    public static String current() {
        return MDC.get(MDC_KEY);
    }
}

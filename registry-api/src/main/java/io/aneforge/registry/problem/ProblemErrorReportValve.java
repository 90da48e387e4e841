package io.aneforge.registry.problem;

import java.io.IOException;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tomcat's error report, as a problem document instead of its HTML page. It covers what Tomcat refuses
 * before the request reaches Spring, so that no handler or advice can answer: a path holding a malformed
 * %-escape, an encoded NUL ({@code %00}), an encoded slash or backslash ({@code %2F}, {@code %5C}), or a
 * {@code ..} segment that climbs above the root (400), or header lines over the connector's limit (431). Everything Spring handles already has a body, which this valve leaves alone.
 */
class ProblemErrorReportValve extends ErrorReportValve {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        // as Tomcat's own valve: only an error that nothing has written a body for, reported once
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) return;
        AtomicBoolean ioAllowed = new AtomicBoolean(true);
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) return;
        Map<String, Object> problem = new LinkedHashMap<>();
        if (status == 400 && headerTooLarge(throwable)) {
            // Tomcat answers 400 for this; RFC 6585 has the precise status, and the fix is the client's or a setting.
            status = HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.value();
            response.setStatus(status);
            problem.put("type", ApiProblem.TYPE_BASE + "request-header-too-large");
            problem.put("title", "Request header too large");
            problem.put("status", status);
            problem.put("detail", "the request's header lines are larger than the HTTP server accepts: send smaller"
                    + " headers (a shorter token, fewer or smaller cookies), or raise server.max-http-request-header-size"
                    + " (SERVER_MAX_HTTP_REQUEST_HEADER_SIZE, default 8KB)");
        } else {
            HttpStatus known = HttpStatus.resolve(status);
            String why = response.getMessage();
            problem.put("type", ApiProblem.TYPE_BASE + (status == 400 ? "invalid-request-uri" : "http-" + status));
            problem.put("title", status == 400 ? "Invalid request URI"
                    : known == null ? "HTTP " + status : known.getReasonPhrase());
            problem.put("status", status);
            problem.put("detail", "the HTTP server refused the request before it reached the API"
                    + (why == null || why.isBlank() ? "" : " (" + why + ")")
                    + (status == 400 ? "; a request path may not hold a malformed %-escape, an encoded NUL (%00),"
                            + " an encoded slash or backslash (%2F, %5C), or a .. segment that climbs above the root" : ""));
        }
        String uri = request.getRequestURI();
        if (uri != null && !uri.isEmpty()) problem.put("instance", uri);
        // set by RequestIdFilter when the request got that far (a URI Tomcat refuses never reaches the filters)
        String requestId = response.getHeader("X-Request-Id");
        if (requestId != null) problem.put("requestId", requestId);
        try {
            response.setContentType("application/problem+json");
            response.setCharacterEncoding("UTF-8");
            Writer w = response.getReporter();
            if (w != null) {
                w.write(JSON.writeValueAsString(problem));
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException ignored) {
            // the client is gone or the response cannot take a body: nothing more to tell it
        }
    }

    /** Tomcat's header parser signals an over-long header block with this exception (message "Request header is too large"). */
    private static boolean headerTooLarge(Throwable t) {
        return t instanceof IllegalArgumentException && t.getMessage() != null && t.getMessage().contains("header is too large");
    }
}

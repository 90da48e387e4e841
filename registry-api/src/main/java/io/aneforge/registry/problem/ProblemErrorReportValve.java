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
 * {@code ..} segment that climbs above the root. Everything Spring handles already has a body, which this valve leaves alone.
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
        HttpStatus known = HttpStatus.resolve(status);
        String why = response.getMessage();
        String detail = "the HTTP server refused the request before it reached the API"
                + (why == null || why.isBlank() ? "" : " (" + why + ")")
                + (status == 400 ? "; a request path may not hold a malformed %-escape, an encoded NUL (%00),"
                        + " an encoded slash or backslash (%2F, %5C), or a .. segment that climbs above the root" : "");
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", ApiProblem.TYPE_BASE + (status == 400 ? "invalid-request-uri" : "http-" + status));
        problem.put("title", known == null ? "HTTP " + status : known.getReasonPhrase());
        problem.put("status", status);
        problem.put("detail", detail);
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
}

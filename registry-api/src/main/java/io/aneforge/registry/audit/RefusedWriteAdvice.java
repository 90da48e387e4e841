package io.aneforge.registry.audit;

import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.requestid.RequestIdFilter;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.MethodParameter;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;

/**
 * Records a refused write ({@link RefusedWrites}) as its problem answer is written: every problem document of Spring
 * MVC passes here, whichever handler or check refused (the token check's role and model scope, a service's 409), so
 * a refusal added later is recorded without code of its own. Only writes (not GET, HEAD, OPTIONS) by an authenticated
 * token ({@link Caller#find}); only {@link RefusedWrites#STATUSES}.
 */
@RestControllerAdvice
class RefusedWriteAdvice implements ResponseBodyAdvice<Object> {

    private static final Logger log = LoggerFactory.getLogger(RefusedWriteAdvice.class);
    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");

    private final RefusedWrites refusals;

    RefusedWriteAdvice(RefusedWrites refusals) {
        this.refusals = refusals;
    }

    @Override
    public boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
        return true; // the body decides, in beforeBodyWrite: handlers declare ResponseEntity<ProblemDetail> or Object
    }

    @Override
    public Object beforeBodyWrite(Object body, MethodParameter returnType, MediaType contentType,
                                  Class<? extends HttpMessageConverter<?>> converterType, ServerHttpRequest request,
                                  ServerHttpResponse response) {
        if (body instanceof ProblemDetail pd && RefusedWrites.STATUSES.contains(pd.getStatus())
                && request instanceof ServletServerHttpRequest servlet) {
            HttpServletRequest http = servlet.getServletRequest();
            if (READS.contains(http.getMethod())) return body;
            Optional<Caller> caller = Caller.find(http);
            if (caller.isEmpty()) return body;
            try {
                refusals.record(refusal(http, caller.get(), pd));
            } catch (RuntimeException e) {
                // the answer is the refusal, whatever became of its record: the line says what was lost
                log.warn("refused write not recorded in the audit trail (status {}, {} {}, requestId={}): {}",
                        pd.getStatus(), http.getMethod(), http.getRequestURI(), RequestIdFilter.current(), e.toString());
            }
        }
        return body;
    }

    private static RefusedWrites.Refusal refusal(HttpServletRequest http, Caller caller, ProblemDetail pd) {
        String route = (String) http.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
        @SuppressWarnings("unchecked")
        Map<String, String> variables = (Map<String, String>) http.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
        String type = pd.getType() == null ? "about:blank" : pd.getType().toString();
        if (type.startsWith(ApiProblem.TYPE_BASE)) type = type.substring(ApiProblem.TYPE_BASE.length());
        // never the raw path as the route: it is part of a row's key, and a client's paths are unbounded
        return new RefusedWrites.Refusal(caller, http.getMethod(), route == null ? "-" : route,
                http.getRequestURI(), variables == null ? null : variables.get("name"), pd.getStatus(), type,
                pd.getDetail(), RequestIdFilter.current());
    }
}

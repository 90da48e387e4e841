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
 * Records a refusal ({@link RefusedWrites}) as its problem answer is written: every problem document of Spring MVC
 * passes here, whichever handler or check refused (the token check's 401 and its role and model scope, a service's
 * 409, a validation's 400 or 422), so a refusal added later is recorded without code of its own. What is recorded is
 * {@link RefusedWrites.Kind#of}: 403/409 to a write, 403 to a read and 400/422 to a write by an authenticated token
 * ({@link Caller#find}), and every 401. Answers written outside Spring MVC (Tomcat's own 400s, the metrics
 * endpoint's token filter) do not pass here.
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
        if (body instanceof ProblemDetail pd && request instanceof ServletServerHttpRequest servlet) {
            HttpServletRequest http = servlet.getServletRequest();
            Optional<Caller> caller = Caller.find(http);
            RefusedWrites.Kind kind = RefusedWrites.Kind.of(pd.getStatus(), READS.contains(http.getMethod()),
                    caller.isPresent());
            if (kind == null) return body;
            try {
                // a 401 names nobody, whatever a filter before the check may have set
                Caller actor = kind == RefusedWrites.Kind.UNAUTHENTICATED ? null : caller.get();
                refusals.record(refusal(http, kind, actor, pd));
            } catch (RuntimeException e) {
                // the answer is the refusal, whatever became of its record: the line says what was lost
                log.warn("refusal not recorded in the audit trail (status {}, {} {}, requestId={}): {}",
                        pd.getStatus(), http.getMethod(), http.getRequestURI(), RequestIdFilter.current(), e.toString());
            }
        }
        return body;
    }

    private static RefusedWrites.Refusal refusal(HttpServletRequest http, RefusedWrites.Kind kind, Caller caller,
                                                 ProblemDetail pd) {
        String route = (String) http.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
        @SuppressWarnings("unchecked")
        Map<String, String> variables = (Map<String, String>) http.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
        String type = pd.getType() == null ? "about:blank" : pd.getType().toString();
        if (type.startsWith(ApiProblem.TYPE_BASE)) type = type.substring(ApiProblem.TYPE_BASE.length());
        // never the raw path as the route: it is part of a row's key, and a client's paths are unbounded
        // a 401's caller is nobody; the bearer token it presented, if any, is named by a fingerprint, never itself
        String fingerprint = null;
        if (caller == null) {
            String header = http.getHeader("Authorization");
            if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) && !header.substring(7).isBlank()) {
                fingerprint = RefusedWrites.fingerprint(header.substring(7).trim());
            }
        }
        return new RefusedWrites.Refusal(kind, caller, fingerprint, http.getMethod(), route == null ? "-" : route,
                http.getRequestURI(), variables == null ? null : variables.get("name"), pd.getStatus(), type,
                pd.getDetail(), RequestIdFilter.current());
    }
}

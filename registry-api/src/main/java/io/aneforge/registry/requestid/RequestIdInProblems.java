package io.aneforge.registry.requestid;

import org.springframework.core.MethodParameter;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;

/**
 * Adds {@code requestId} to every problem document Spring MVC writes (the registry's own and Spring Boot's), so a
 * user who reports an error can quote the id that finds its log lines.
 */
@RestControllerAdvice
class RequestIdInProblems implements ResponseBodyAdvice<Object> {

    @Override
    public boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
        return true; // the body's type decides, in beforeBodyWrite: handlers declare ResponseEntity<ProblemDetail> or Object
    }

    @Override
    public Object beforeBodyWrite(Object body, MethodParameter returnType, MediaType contentType,
                                  Class<? extends HttpMessageConverter<?>> converterType, ServerHttpRequest request,
                                  ServerHttpResponse response) {
        if (body instanceof ProblemDetail pd) {
            String id = RequestIdFilter.current();
            if (id != null) pd.setProperty("requestId", id);
        }
        return body;
    }
}

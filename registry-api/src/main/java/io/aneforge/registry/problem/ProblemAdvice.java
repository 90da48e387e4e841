package io.aneforge.registry.problem;

import java.net.URI;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * The one place where exceptions become problem+json documents. First among the advices: Spring Boot's own
 * problem-details handler ({@code spring.mvc.problemdetails.enabled}) also handles the framework's exceptions
 * (unreadable JSON, a missing field, a bad parameter, an unknown path), with generic details and no slug; ahead
 * of it, clients get these handlers' slugs and details that name the field and the fix.
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE)
class ProblemAdvice {

    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> apiProblem(ApiProblem e) {
        ResponseEntity.BodyBuilder b = ResponseEntity.status(e.status()).contentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (e.status() == HttpStatus.UNAUTHORIZED) b.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"aneforge\"");
        return b.body(e.toProblemDetail());
    }

    @ExceptionHandler(MethodArgumentNotValidException.class)
    ResponseEntity<ProblemDetail> invalid(MethodArgumentNotValidException e) {
        String detail = e.getBindingResult().getFieldErrors().stream()
                .map(f -> "field '" + f.getField() + "' " + f.getDefaultMessage())
                .collect(Collectors.joining("; "));
        return apiProblem(ApiProblem.badRequest("invalid-request", "Invalid request body", detail));
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<ProblemDetail> unreadable(HttpMessageNotReadableException e) {
        return apiProblem(ApiProblem.badRequest("invalid-request", "Invalid request body",
                UnreadableBody.detail(e.getCause())));
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    ResponseEntity<ProblemDetail> missingParam(MissingServletRequestParameterException e) {
        return apiProblem(ApiProblem.badRequest("missing-parameter", "Missing query parameter",
                "query parameter '" + e.getParameterName() + "' is required"));
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> mismatch(MethodArgumentTypeMismatchException e) {
        // say what was expected where the type tells (agent ids are UUIDs, version numbers integers)
        Class<?> type = e.getRequiredType();
        String expected = type == java.util.UUID.class ? ": expected a UUID such as 3f2c9a4e-7b1d-4c5e-9f60-1a2b3c4d5e6f"
                : type == int.class || type == Integer.class || type == long.class || type == Long.class
                ? ": expected an integer" : "";
        return apiProblem(ApiProblem.badRequest("invalid-parameter", "Invalid parameter",
                "parameter '" + e.getName() + "' has an invalid value '" + e.getValue() + "'" + expected));
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<ProblemDetail> method(HttpRequestMethodNotSupportedException e) {
        return apiProblem(new ApiProblem(HttpStatus.METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed",
                e.getMessage()));
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<ProblemDetail> mediaType(HttpMediaTypeNotSupportedException e) {
        return apiProblem(new ApiProblem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                "Unsupported media type", e.getMessage() + "; send application/json"));
    }

    /**
     * The client's {@code Accept} names no type the endpoint writes. 406, and the body is still problem+json:
     * RFC 9110 lets a server send a 406 in a type the client did not ask for, and a problem document is the one
     * error format of this API (Spring's own handling would send no body, or fail the same negotiation again;
     * the preset Content-Type here skips that negotiation).
     */
    @ExceptionHandler(HttpMediaTypeNotAcceptableException.class)
    ResponseEntity<ProblemDetail> notAcceptable(HttpMediaTypeNotAcceptableException e) {
        List<String> supported = e.getSupportedMediaTypes().stream().map(MediaType::toString).distinct().toList();
        String send = supported.contains("text/csv") ? "application/json or text/csv" : "application/json";
        return apiProblem(new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "not-acceptable", "Not acceptable",
                "the Accept header names no type this endpoint answers (listed in supportedMediaTypes); send Accept: "
                        + send + ", or */*; errors are always application/problem+json")
                .with("supportedMediaTypes", supported));
    }

    @ExceptionHandler(NoResourceFoundException.class)
    ResponseEntity<ProblemDetail> noResource(NoResourceFoundException e) {
        return apiProblem(ApiProblem.notFound("no-such-endpoint", "No such endpoint",
                "nothing is served at /" + e.getResourcePath() + "; see /v3/api-docs for the API"));
    }

    /**
     * The object store failed (unreachable, refused, timed out): the registry's dependency, not the client, so a 503 a
     * client may retry rather than a 500 (review-r21); the cause is in the log line with the request id.
     */
    @ExceptionHandler(io.aneforge.registry.storage.StorageException.class)
    ResponseEntity<ProblemDetail> storage(io.aneforge.registry.storage.StorageException e) {
        String requestId = org.slf4j.MDC.get("requestId");
        log.error("object store failed (requestId={})", requestId, e);
        ProblemDetail pd = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
                "the registry's object store did not answer as expected; retry later, and if it persists see the"
                        + " registry log" + (requestId == null ? "" : ", the line with requestId=" + requestId)
                        + ", and /actuator/health");
        pd.setType(URI.create(ApiProblem.TYPE_BASE + "storage-unavailable"));
        pd.setTitle("Storage unavailable");
        return ResponseEntity.status(503).header(HttpHeaders.RETRY_AFTER, "30")
                .contentType(MediaType.APPLICATION_PROBLEM_JSON).body(pd);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e) {
        // the id is in the line itself too, so plain-text logs (no MDC in their pattern) can be searched for it
        String requestId = org.slf4j.MDC.get("requestId");
        log.error("unexpected error (requestId={})", requestId, e);
        ProblemDetail pd = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
                "internal error (" + e.getClass().getSimpleName() + "); see the registry log"
                        + (requestId == null ? "" : ", the line with requestId=" + requestId));
        pd.setType(URI.create(ApiProblem.TYPE_BASE + "internal-error"));
        pd.setTitle("Internal error");
        return ResponseEntity.status(500).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(pd);
    }
}

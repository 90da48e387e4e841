package io.aneforge.registry.problem;

import io.aneforge.actuator.ActuatorTokenFilter;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;

/**
 * A refusal a client can reach: becomes an RFC 9457 problem document whose {@code type} is
 * {@code https://aneforge.io/problems/<slug>}. Each distinct reason has its own slug.
 */
public class ApiProblem extends RuntimeException {

    /** Shared with the actuator token filter (registry and converter worker), so every problem type has one base. */
    public static final String TYPE_BASE = ActuatorTokenFilter.PROBLEM_TYPE_BASE;

    private final HttpStatus status;
    private final String slug;
    private final String title;
    private final Map<String, Object> properties = new LinkedHashMap<>();

    public ApiProblem(HttpStatus status, String slug, String title, String detail) {
        super(detail);
        this.status = status;
        this.slug = slug;
        this.title = title;
    }

    public ApiProblem with(String key, Object value) {
        properties.put(key, value);
        return this;
    }

    public HttpStatus status() { return status; }

    public String slug() { return slug; }

    public ProblemDetail toProblemDetail() {
        ProblemDetail pd = ProblemDetail.forStatusAndDetail(status, getMessage());
        pd.setType(URI.create(TYPE_BASE + slug));
        pd.setTitle(title);
        properties.forEach(pd::setProperty);
        return pd;
    }

    public static ApiProblem notFound(String slug, String title, String detail) {
        return new ApiProblem(HttpStatus.NOT_FOUND, slug, title, detail);
    }

    public static ApiProblem badRequest(String slug, String title, String detail) {
        return new ApiProblem(HttpStatus.BAD_REQUEST, slug, title, detail);
    }

    public static ApiProblem conflict(String slug, String title, String detail) {
        return new ApiProblem(HttpStatus.CONFLICT, slug, title, detail);
    }

    public static ApiProblem unprocessable(String slug, String title, String detail) {
        return new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, slug, title, detail);
    }
}

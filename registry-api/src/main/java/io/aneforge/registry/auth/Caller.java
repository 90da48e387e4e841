package io.aneforge.registry.auth;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Optional;

/**
 * Who is calling: the token's name (recorded as created_by/changed_by), role, and the models it may write to
 * ({@link ModelScope#ALL} for every token minted without {@code models}, and for the bootstrap admin).
 */
public record Caller(Long tokenId, String name, Role role, ModelScope scope) {

    static final String ATTRIBUTE = Caller.class.getName();

    public Caller {
        if (scope == null) scope = ModelScope.ALL;
    }

    /** A caller who may write to every model. */
    public Caller(Long tokenId, String name, Role role) {
        this(tokenId, name, role, ModelScope.ALL);
    }

    public static Caller of(HttpServletRequest request) {
        Caller c = (Caller) request.getAttribute(ATTRIBUTE);
        if (c == null) throw new IllegalStateException("no authenticated caller on " + request.getRequestURI());
        return c;
    }

    /**
     * The token the request authenticated with, also when it was then refused (a role or model it may not write to:
     * {@link TokenInterceptor} sets it before those checks, so the refused-write trail can name who was refused);
     * empty for a request without a valid token.
     */
    public static Optional<Caller> find(HttpServletRequest request) {
        return Optional.ofNullable((Caller) request.getAttribute(ATTRIBUTE));
    }

    /**
     * 403 {@code forbidden-model} when this token may not write to {@code model}. {@link TokenInterceptor} checks
     * every write whose path names a model; a handler calls this for a write that names its model elsewhere
     * (the body of {@code POST /models}, the conversion behind {@code /conversions/{id}/cancel}).
     */
    public void requireWriteTo(String model) {
        scope.require(this, model);
    }
}

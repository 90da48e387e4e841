package io.aneforge.registry.auth;

import jakarta.servlet.http.HttpServletRequest;

/** Who is calling: the token's name (recorded as created_by/changed_by) and role. */
public record Caller(Long tokenId, String name, Role role) {

    static final String ATTRIBUTE = Caller.class.getName();

    public static Caller of(HttpServletRequest request) {
        Caller c = (Caller) request.getAttribute(ATTRIBUTE);
        if (c == null) throw new IllegalStateException("no authenticated caller on " + request.getRequestURI());
        return c;
    }
}

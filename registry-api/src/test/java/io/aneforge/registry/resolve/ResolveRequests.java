package io.aneforge.registry.resolve;

import org.springframework.mock.web.MockHttpServletRequest;

/** A resolve GET as the servlet container hands it to {@link ResolveFastPath} and the controller (tests). */
final class ResolveRequests {

    private ResolveRequests() {
    }

    /** {@code GET /api/v1/models/{model}/resolve?{query}} with its parameters parsed and the bearer token. */
    static MockHttpServletRequest of(String model, String query, String token) {
        MockHttpServletRequest req = new MockHttpServletRequest("GET", "/api/v1/models/" + model + "/resolve");
        req.setQueryString(query);
        for (String kv : query.split("&")) {
            String[] p = kv.split("=", 2);
            req.addParameter(p[0], p[1]);
        }
        req.addHeader("Authorization", "Bearer " + token);
        return req;
    }
}

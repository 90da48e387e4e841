package io.aneforge.registry.auth;

import io.aneforge.registry.download.DownloadSigner;
import io.aneforge.registry.problem.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;

/**
 * Bearer-token check for {@code /api/v1/**}: 401 without a valid token, 403 for a role not {@link Allowed}, and 403
 * {@code forbidden-model} for a write (any method but GET and HEAD) whose path names a model ({@code {name}}) the
 * token's {@link ModelScope} does not cover. Checked here, on the path pattern, so that every write under
 * {@code /models/{name}} is covered, including one added later; reads are never limited by the scope.
 */
@Component
class TokenInterceptor implements HandlerInterceptor {

    private final Tokens tokens;
    private final DownloadSigner signer;

    TokenInterceptor(Tokens tokens, DownloadSigner signer) {
        this.tokens = tokens;
        this.signer = signer;
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        if (!(handler instanceof HandlerMethod method)) return true; // static resources, 404s
        Allowed allowed = method.getMethodAnnotation(Allowed.class);
        if (allowed == null) {
            // Fail closed: an endpoint someone forgot to annotate is not reachable.
            throw new IllegalStateException("endpoint " + method.getShortLogMessage() + " declares no @Allowed roles");
        }
        String header = request.getHeader("Authorization");
        if (header == null && allowed.signedUrl()
                && (request.getParameter(DownloadSigner.SIGNATURE) != null || request.getParameter(DownloadSigner.EXPIRES) != null)) {
            // No caller: the URL grants this one blob, nothing else (no Caller attribute for the handler to trust).
            @SuppressWarnings("unchecked")
            Map<String, String> vars = (Map<String, String>) request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
            signer.verify(vars == null ? null : vars.get("hex"), request.getParameter(DownloadSigner.EXPIRES),
                    request.getParameter(DownloadSigner.SIGNATURE), Instant.now());
            return true;
        }
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
            throw new ApiProblem(HttpStatus.UNAUTHORIZED, "unauthenticated", "Authentication required",
                    "send 'Authorization: Bearer <token>'; tokens are minted by an admin with POST /api/v1/tokens");
        }
        Optional<Caller> caller = tokens.authenticate(header.substring(7).trim());
        if (caller.isEmpty()) {
            throw new ApiProblem(HttpStatus.UNAUTHORIZED, "invalid-token", "Invalid token",
                    "the bearer token is unknown or revoked");
        }
        // Before the role and scope checks: a refusal below names its caller in the audit trail's refused writes
        // (Caller.find); the handler, the one that acts as the caller, does not run when a check throws.
        request.setAttribute(Caller.ATTRIBUTE, caller.get());
        Role role = caller.get().role();
        if (role != Role.ADMIN && !allowed.anyRole() && Arrays.stream(allowed.value()).noneMatch(r -> r == role)) {
            throw new ApiProblem(HttpStatus.FORBIDDEN, "forbidden-role", "Role not allowed",
                    "role '" + role.wireName() + "' may not call " + request.getMethod() + " " + request.getRequestURI()
                            + "; allowed: " + describe(allowed))
                    .with("role", role.wireName());
        }
        if (!caller.get().scope().all() && !request.getMethod().equals("GET") && !request.getMethod().equals("HEAD")) {
            @SuppressWarnings("unchecked")
            Map<String, String> variables = (Map<String, String>) request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
            String model = variables == null ? null : variables.get("name");
            if (model != null) caller.get().requireWriteTo(model);
        }
        return true;
    }

    private static String describe(Allowed a) {
        StringBuilder sb = new StringBuilder();
        for (Role r : a.value()) sb.append(r.wireName()).append(", ");
        return sb.append("admin").toString();
    }
}

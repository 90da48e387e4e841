package io.aneforge.registry.auth;

import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.problem.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

@RestController
@RequestMapping("/api/v1/tokens")
class TokenController {

    /** {@code models}: the models a publisher token may write to ({@link ModelScope}); left out, every model. */
    record MintRequest(@NotBlank @Size(max = 200) String name, @NotBlank String role,
                       @Size(max = MAX_MODELS) List<String> models) {}

    /** The most entries {@code models} may have, at minting and when changed. */
    static final int MAX_MODELS = 100;

    private final Tokens tokens;
    private final Audit audit;
    private final TokenProperties settings;

    TokenController(Tokens tokens, Audit audit, TokenProperties settings) {
        this.tokens = tokens;
        this.audit = audit;
        this.settings = settings;
    }

    /** Mints a token; the response is the only time the token itself is shown. */
    @PostMapping
    @ResponseStatus(HttpStatus.CREATED)
    @Allowed
    Tokens.Minted mint(@Valid @RequestBody MintRequest req, HttpServletRequest http) {
        Role role = Role.fromWire(req.role());
        if (role == null) {
            throw ApiProblem.badRequest("unknown-role", "Unknown role",
                    "role '" + req.role() + "' is not one of reader, publisher, qa, worker, agent, admin");
        }
        ModelScope scope = ModelScope.parse(req.models());
        if (!scope.all() && role != Role.PUBLISHER) throw ModelScope.notSupported(role);
        settings.requireScope(role, scope, "mint it");
        Caller by = Caller.of(http);
        return audit.record(by, () -> tokens.mint(req.name(), role, scope, by), minted -> Audit.Event.of("token.mint")
                .onToken(minted.id()).with("name", minted.name()).with("role", minted.role()).with("models", minted.models()));
    }

    /** The calling token itself, whatever its role: name, role and the models it may write to (null: every model). */
    @GetMapping("/self")
    @Allowed(anyRole = true)
    WhoAmI self(HttpServletRequest http) {
        Caller c = Caller.of(http);
        return new WhoAmI(c.tokenId(), c.name(), c.role().wireName(), c.scope().patterns());
    }

    record WhoAmI(Long id, String name, String role, List<String> models) {}

    @GetMapping
    @Allowed
    List<Tokens.TokenInfo> list() {
        return tokens.list();
    }

    /**
     * Replaces the models a token may write to: {@code {"models": ["team-a-*"]}} limits it (checked as at minting),
     * {@code {"models": null}} lifts the limit. Only {@code models} can change: a token's name and role are what it
     * was minted as (mint another for those). 200 with the token as listed; a change of nothing is not audited.
     */
    @PatchMapping("/{id}")
    @Allowed
    Tokens.TokenInfo changeScope(@PathVariable long id, @RequestBody JsonNode body, HttpServletRequest http) {
        ModelScope scope = ModelScope.parse(modelsOf(body));
        Tokens.ScopeChange change = audit.recordIfChanged(Caller.of(http), () -> tokens.changeScope(id, scope),
                changed -> Audit.Event.of("token.scope").onToken(id).with("name", changed.token().name())
                        .with("role", changed.token().role()).with("before", changed.before())
                        .with("models", changed.token().models()));
        return change.token();
    }

    /**
     * The body's {@code models}: a list of strings, or null for every model. Read by hand, not bound to a record,
     * because "models": null (lift the limit) must differ from a body without it, and a key other than models
     * (a name or role someone hoped to change) must be refused, not ignored.
     */
    private static List<String> modelsOf(JsonNode body) {
        if (body == null || !body.isObject()) throw invalid("the body must be an object: {\"models\": [...]}");
        for (String key : body.propertyNames()) {
            if (!key.equals("models")) {
                throw invalid("field '/" + key + "' cannot be changed: only models can (a token keeps the name and role"
                        + " it was minted with; mint another token for a different one)");
            }
        }
        JsonNode models = body.get("models");
        if (models == null) {
            throw invalid("field '/models' is required: a list of model names or prefixes ending in '*', or null for"
                    + " every model");
        }
        if (models.isNull()) return null;
        if (!models.isArray()) throw invalid("field '/models' must be an array of strings, or null for every model");
        if (models.size() > MAX_MODELS) {
            throw invalid("field '/models' has " + models.size() + " entries; at most " + MAX_MODELS);
        }
        List<String> patterns = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            if (!models.get(i).isString()) throw invalid("field '/models/" + i + "' must be a string");
            patterns.add(models.get(i).asString());
        }
        return patterns;
    }

    private static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("invalid-request", "Invalid request body", detail);
    }

    @DeleteMapping("/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Allowed
    void revoke(@PathVariable long id, HttpServletRequest http) {
        audit.recordIfChanged(Caller.of(http), () -> {
            Tokens.Revocation r = tokens.revoke(id);
            if (r == Tokens.Revocation.NO_SUCH_TOKEN) {
                throw Tokens.notFound(id);
            }
            return new Audit.Outcome<>(id, r == Tokens.Revocation.REVOKED);
        }, revoked -> Audit.Event.of("token.revoke").onToken(id));
    }
}

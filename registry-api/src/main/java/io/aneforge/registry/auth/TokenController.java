package io.aneforge.registry.auth;

import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.problem.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/tokens")
class TokenController {

    /** {@code models}: the models a publisher token may write to ({@link ModelScope}); left out, every model. */
    record MintRequest(@NotBlank @Size(max = 200) String name, @NotBlank String role, @Size(max = 100) List<String> models) {}

    private final Tokens tokens;
    private final Audit audit;

    TokenController(Tokens tokens, Audit audit) {
        this.tokens = tokens;
        this.audit = audit;
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
        if (!scope.all() && role != Role.PUBLISHER) {
            // Only a publisher writes to models it names: a worker leases from the one shared conversion queue,
            // an agent runs any model's jobs, reader and qa only read, and admin is never limited.
            throw ApiProblem.badRequest("model-scope-not-supported", "Model scope not supported for this role",
                    "models limits what a publisher token may write; a " + role.wireName() + " token cannot be limited"
                            + " to models: leave models out, or mint a publisher token");
        }
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

    @DeleteMapping("/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Allowed
    void revoke(@PathVariable long id, HttpServletRequest http) {
        audit.recordIfChanged(Caller.of(http), () -> {
            Tokens.Revocation r = tokens.revoke(id);
            if (r == Tokens.Revocation.NO_SUCH_TOKEN) {
                throw ApiProblem.notFound("token-not-found", "Token not found", "no token with id " + id);
            }
            return new Audit.Outcome<>(id, r == Tokens.Revocation.REVOKED);
        }, revoked -> Audit.Event.of("token.revoke").onToken(id));
    }
}

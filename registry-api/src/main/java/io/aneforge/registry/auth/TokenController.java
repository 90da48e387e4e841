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

    record MintRequest(@NotBlank @Size(max = 200) String name, @NotBlank String role) {}

    private final Tokens tokens;

    TokenController(Tokens tokens) {
        this.tokens = tokens;
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
        Tokens.Minted minted = tokens.mint(req.name(), role, Caller.of(http));
        Audit.log(Caller.of(http), "token.mint", "token " + minted.id(), "name " + minted.name() + ", role " + minted.role());
        return minted;
    }

    @GetMapping
    @Allowed
    List<Tokens.TokenInfo> list() {
        return tokens.list();
    }

    @DeleteMapping("/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Allowed
    void revoke(@PathVariable long id, HttpServletRequest http) {
        if (!tokens.revoke(id)) throw ApiProblem.notFound("token-not-found", "Token not found", "no token with id " + id);
        Audit.log(Caller.of(http), "token.revoke", "token " + id, null);
    }
}

package io.aneforge.registry.alias;

import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/models/{name}/aliases")
class AliasController {

    /** {@code override}: an admin moves the alias although the version's gates did not pass (recorded in the history). */
    record Move(Integer version, String reason, Boolean override) {}

    record Removal(String reason) {}

    private final Aliases aliases;
    private final Audit audit;

    AliasController(Aliases aliases, Audit audit) {
        this.aliases = aliases;
        this.audit = audit;
    }

    @PutMapping("/{alias}")
    @Allowed(Role.PUBLISHER)
    Aliases.AliasView move(@PathVariable String name, @PathVariable String alias, @RequestBody Move req, HttpServletRequest http) {
        boolean override = Boolean.TRUE.equals(req.override());
        return audit.record(Caller.of(http), () -> aliases.move(name, alias, req.version(), req.reason(), override, Caller.of(http)),
                moved -> Audit.Event.of("alias.move").onAlias(name, alias, moved.version()).with("override", override)
                        .with("reason", req.reason()));
    }

    /** The same role as a move: deleting an alias ships nothing new, it only stops resolving it. */
    @DeleteMapping("/{alias}")
    @Allowed(Role.PUBLISHER)
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(@PathVariable String name, @PathVariable String alias,
                @RequestBody(required = false) Removal req, HttpServletRequest http) {
        String reason = req == null ? null : req.reason();
        audit.record(Caller.of(http), () -> {
            aliases.delete(name, alias, reason, Caller.of(http));
            return alias;
        }, deleted -> Audit.Event.of("alias.delete").onAlias(name, alias, null).with("reason", reason));
    }

    @GetMapping
    @Allowed(anyRole = true)
    List<Aliases.AliasView> list(@PathVariable String name) {
        return aliases.list(name);
    }

    @GetMapping("/{alias}")
    @Allowed(anyRole = true)
    Aliases.AliasView get(@PathVariable String name, @PathVariable String alias) {
        return aliases.get(name, alias);
    }

    @GetMapping("/{alias}/history")
    @Allowed(anyRole = true)
    List<Aliases.HistoryEntry> history(@PathVariable String name, @PathVariable String alias) {
        return aliases.history(name, alias);
    }
}

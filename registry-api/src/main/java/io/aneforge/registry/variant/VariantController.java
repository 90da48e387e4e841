package io.aneforge.registry.variant;

import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/models/{name}/versions/{version}/variants")
class VariantController {

    record Yank(String reason) {}

    private final Variants variants;
    private final Audit audit;

    VariantController(Variants variants, Audit audit) {
        this.variants = variants;
        this.audit = audit;
    }

    @PostMapping
    @ResponseStatus(HttpStatus.CREATED)
    @Allowed({Role.PUBLISHER, Role.WORKER})
    Variants.VariantView register(@PathVariable String name, @PathVariable int version,
                                  @RequestBody Variants.NewVariant req, HttpServletRequest http) {
        // A second registration of the same identity is a 409 variant-exists, so every success is a change.
        return audit.record(Caller.of(http), () -> variants.register(name, version, req, Caller.of(http)),
                registered -> Audit.Event.of("variant.register").onVariant(name, version, registered.id())
                        .with("chip", registered.chip()).with("digest", registered.digest()));
    }

    @GetMapping
    @Allowed(anyRole = true)
    List<Variants.VariantView> list(@PathVariable String name, @PathVariable int version) {
        return variants.list(name, version);
    }

    @PostMapping("/{id}/yank")
    @Allowed(Role.PUBLISHER)
    Variants.VariantView yank(@PathVariable String name, @PathVariable int version, @PathVariable long id,
                              @RequestBody Yank req, HttpServletRequest http) {
        return audit.recordIfChanged(Caller.of(http), () -> variants.yank(name, version, id, req.reason()), yanked -> Audit.Event.of(
                "variant.yank").onVariant(name, version, id).with("reason", req.reason()));
    }
}

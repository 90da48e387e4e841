package io.aneforge.registry.model;

import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.conversion.Conversions;
import io.aneforge.registry.model.ModelRecords.ModelView;
import io.aneforge.registry.model.ModelRecords.VersionView;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.variant.VariantSpec;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
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
@RequestMapping("/api/v1/models")
class ModelController {

    record CreateModel(@NotBlank @Size(max = 128) String name, @NotBlank @Size(max = 64) String task,
                       @Size(max = 4000) String description, @Size(max = 200) String owner) {}

    /**
     * With {@code chips} (and optionally {@code recipe}, default "default", {@code seqLen}, default 128, {@code head},
     * default "convert", and {@code tokenTypes}, default false) a conversion is queued.
     */
    record CreateVersion(@NotNull Models.Source source, List<String> chips, String recipe, Integer seqLen, String head,
                         Boolean tokenTypes) {}

    record Yank(String reason) {}

    /**
     * Optional body of a publish: {@code withoutGoldenData: true} with a {@code reason} publishes a version that has no
     * golden data (accuracy not checked); without it such a version is refused.
     */
    record Publish(Boolean withoutGoldenData, String reason) {}

    private final Models models;
    private final Conversions conversions;
    private final Audit audit;

    ModelController(Models models, Conversions conversions, Audit audit) {
        this.models = models;
        this.conversions = conversions;
        this.audit = audit;
    }

    @PostMapping
    @ResponseStatus(HttpStatus.CREATED)
    @Allowed(Role.PUBLISHER)
    ModelView create(@Valid @RequestBody CreateModel req, HttpServletRequest http) {
        Caller.of(http).requireWriteTo(req.name()); // the path names no model: a scoped token creates only its own
        String owner = req.owner() == null || req.owner().isBlank() ? Caller.of(http).name() : req.owner();
        return audit.record(Caller.of(http), () -> models.create(req.name(), req.task(), req.description(), owner),
                created -> Audit.Event.of("model.create").onModel(created.name()).with("task", created.task())
                        .with("owner", created.owner()));
    }

    @GetMapping
    @Allowed(anyRole = true)
    List<ModelView> list() {
        return models.list();
    }

    @GetMapping("/{name}")
    @Allowed(anyRole = true)
    ModelView get(@PathVariable String name) {
        return models.get(name);
    }

    @PostMapping("/{name}/versions")
    @ResponseStatus(HttpStatus.CREATED)
    @Allowed({Role.PUBLISHER, Role.WORKER})
    VersionView createVersion(@PathVariable String name, @Valid @RequestBody CreateVersion req, HttpServletRequest http) {
        if (req.seqLen() != null && VariantSpec.seqLenProblem(req.seqLen()) != null) {
            // ane-core's bounds, as the CLI and the converter apply them: refused before a version is created
            throw ApiProblem.badRequest("invalid-request", "Invalid request", "seqLen: "
                    + VariantSpec.seqLenProblem(req.seqLen()) + "; pass seqLen between " + VariantSpec.MIN_SEQ_LEN + " and "
                    + VariantSpec.MAX_SEQ_LEN + " (default 128)");
        }
        boolean converted = req.chips() != null || req.recipe() != null;
        if (!converted && (req.head() != null || req.tokenTypes() != null)) {
            throw ApiProblem.badRequest("invalid-request", "Invalid request", "head and tokenTypes are conversion "
                    + "options: pass chips (and optionally recipe) to convert, or leave them out for a version that takes "
                    + "uploaded variants");
        }
        return audit.record(Caller.of(http), () -> converted
                        ? conversions.publish(name, new Conversions.Request(req.source(), req.chips(), req.recipe(), req.seqLen(),
                                req.head(), req.tokenTypes()),
                                Caller.of(http))
                        : models.createVersion(name, req.source(), Caller.of(http)),
                created -> {
                    Audit.Event event = Audit.Event.of("version.create").onVersion(name, created.version())
                            .with("source", created.source().type()).with("repo", created.source().repo())
                            .with("revision", created.source().revision()).with("path", created.source().path());
                    // the conversion's own row has the resolved recipe and seqLen: GET .../versions/{v}/conversion
                    return converted ? event.with("chips", req.chips()).with("recipe", req.recipe()) : event;
                });
    }

    @GetMapping("/{name}/versions")
    @Allowed(anyRole = true)
    List<VersionView> versions(@PathVariable String name) {
        return models.versions(name);
    }

    @GetMapping("/{name}/versions/{version}")
    @Allowed(anyRole = true)
    VersionView version(@PathVariable String name, @PathVariable int version) {
        return models.version(name, version);
    }

    /**
     * Freezes a draft: afterwards no variant can be added and the version can be aliased. A draft without golden data
     * is refused unless the body says {@code {"withoutGoldenData": true, "reason": "..."}}.
     */
    @PostMapping("/{name}/versions/{version}/publish")
    @Allowed({Role.PUBLISHER, Role.WORKER})
    VersionView publish(@PathVariable String name, @PathVariable int version,
                        @RequestBody(required = false) Publish req, HttpServletRequest http) {
        boolean without = req != null && Boolean.TRUE.equals(req.withoutGoldenData());
        String reason = req == null ? null : req.reason();
        if (!without && reason != null) {
            throw ApiProblem.badRequest("invalid-request", "Invalid request",
                    "reason: a publish records a reason only with \"withoutGoldenData\": true; drop it, or send both");
        }
        Caller caller = Caller.of(http);
        if (without && caller.role() == Role.WORKER) {
            // A worker publishes through conversion completion, which always stores golden data; the opt-out is a
            // person's decision, and worker credentials are the less trusted ones (their own database role).
            throw new ApiProblem(HttpStatus.FORBIDDEN, "forbidden-role", "Role not allowed",
                    "role 'worker' may not publish with \"withoutGoldenData\": true; allowed: publisher, admin (a worker"
                            + " publishes through conversion completion, with golden data)")
                    .with("role", caller.role().wireName());
        }
        // Models.publish checks the reason and audits the publish (as it does a completed conversion's)
        return models.publish(name, version, without ? new Models.WithoutGoldenData(caller.name(), reason) : null, caller,
                null);
    }

    /** Withdraws a version (with a reason); refused while an alias points at it. */
    @PostMapping("/{name}/versions/{version}/yank")
    @Allowed(Role.PUBLISHER)
    VersionView yank(@PathVariable String name, @PathVariable int version, @RequestBody Yank req, HttpServletRequest http) {
        return audit.recordIfChanged(Caller.of(http), () -> models.yank(name, version, req.reason()), yanked -> Audit.Event.of(
                "version.yank").onVersion(name, version).with("reason", req.reason()));
    }
}

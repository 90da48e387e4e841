package io.aneforge.registry.conversion;

import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.conversion.ConversionViews.ConversionSummary;
import io.aneforge.registry.conversion.ConversionViews.ConversionView;
import io.aneforge.registry.conversion.ConversionViews.FailReport;
import io.aneforge.registry.conversion.ConversionViews.HandBack;
import io.aneforge.registry.conversion.ConversionViews.LeaseRequest;
import io.aneforge.registry.conversion.ConversionViews.LeaseToken;
import io.aneforge.registry.conversion.ConversionViews.LeaseView;
import io.aneforge.registry.conversion.ConversionViews.ProgressReport;
import io.aneforge.registry.conversion.ConversionViews.ReleaseReport;
import io.aneforge.registry.conversion.ConversionViews.RequestRelease;
import io.aneforge.registry.conversion.ConversionViews.RequestReleaseReport;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Conversion status for everyone; leasing and reporting for workers. */
@RestController
class ConversionController {

    private final Conversions conversions;
    private final Audit audit;

    ConversionController(Conversions conversions, Audit audit) {
        this.conversions = conversions;
        this.audit = audit;
    }

    /** Newest first; {@code state=active} (default) lists queued and running conversions, {@code all} every one. */
    @GetMapping("/api/v1/conversions")
    @Allowed(anyRole = true)
    List<ConversionSummary> list(@RequestParam(defaultValue = "active") String state,
                                 @RequestParam(defaultValue = "50") String limit) {
        // read here, not bound as an int: a limit that is no number is invalid-query like one out of range
        int n;
        try {
            n = Integer.parseInt(limit.trim());
        } catch (NumberFormatException e) {
            throw io.aneforge.registry.problem.ApiProblem.badRequest("invalid-query", "Invalid query",
                    "parameter 'limit' must be a whole number between 1 and " + Conversions.MAX_LIST + ", got '" + limit + "'");
        }
        return conversions.list(state, n);
    }

    @GetMapping("/api/v1/conversions/{id}")
    @Allowed(anyRole = true)
    ConversionView get(@PathVariable long id) {
        return conversions.get(id);
    }

    @GetMapping("/api/v1/models/{name}/versions/{version}/conversion")
    @Allowed(anyRole = true)
    ConversionView forVersion(@PathVariable String name, @PathVariable int version) {
        return conversions.forVersion(name, version);
    }

    @PostMapping("/api/v1/conversions/{id}/cancel")
    @Allowed(Role.PUBLISHER)
    ConversionView cancel(@PathVariable long id, HttpServletRequest http) {
        // The path names no model: Conversions.cancel checks a scoped token's models under the row lock.
        // A second cancel is a 409 conversion-finished, never a repeat that changed nothing.
        return audit.record(Caller.of(http), () -> conversions.cancel(id, Caller.of(http)), cancelled -> Audit.Event.of(
                "conversion.cancel").onVersion(cancelled.model(), cancelled.version()).with("conversion", id));
    }

    /** 200 with a lease on the oldest queued conversion, or 204 when the queue is empty. */
    @PostMapping("/api/v1/conversions/lease")
    @Allowed(Role.WORKER)
    ResponseEntity<LeaseView> leaseNext(@RequestBody LeaseRequest req) {
        return conversions.leaseNext(req.worker(), req.request(), req.options()).map(ResponseEntity::ok).orElseGet(() -> ResponseEntity.noContent().build());
    }

    /** Leases one conversion: a restarted worker recovering its own (or an expired) execution. */
    @PostMapping("/api/v1/conversions/{id}/lease")
    @Allowed(Role.WORKER)
    LeaseView lease(@PathVariable long id, @RequestBody LeaseRequest req) {
        return conversions.lease(id, req.worker(), req.request(), req.options());
    }

    @PostMapping("/api/v1/conversions/{id}/heartbeat")
    @Allowed(Role.WORKER)
    LeaseView heartbeat(@PathVariable long id, @RequestBody LeaseToken req) {
        return conversions.heartbeat(id, req.leaseToken());
    }

    @PostMapping("/api/v1/conversions/{id}/progress")
    @Allowed(Role.WORKER)
    ConversionView progress(@PathVariable long id, @RequestBody ProgressReport req) {
        return conversions.progress(id, req);
    }

    @PostMapping("/api/v1/conversions/{id}/complete")
    @Allowed(Role.WORKER)
    ConversionView complete(@PathVariable long id, @RequestBody LeaseToken req, HttpServletRequest http) {
        return conversions.complete(id, req.leaseToken(), Caller.of(http));
    }

    /**
     * The conversion is queued again without spending an attempt (also for a repeat of the same release), or, for a
     * hand-back with {@code trouble} past {@code aneforge.conversions.max-hand-backs} of this conversion by this
     * worker, failed: 200 with the {@link HandBack} when the request names {@code trouble} (true or false), 204 when
     * it does not (workers before V14 expect 204; their releases are not counted). 409 {@code lease-lost} /
     * {@code conversion-cancelled} for a lease that is not current, 404 for no conversion.
     */
    @PostMapping("/api/v1/conversions/{id}/release")
    @Allowed(Role.WORKER)
    ResponseEntity<HandBack> release(@PathVariable long id, @RequestBody ReleaseReport req) {
        HandBack h = conversions.release(id, req.leaseToken(), req.reason(), Boolean.TRUE.equals(req.trouble()));
        return req.trouble() == null ? ResponseEntity.noContent().build() : ResponseEntity.ok(h);
    }

    /**
     * Releases the lease granted for the worker's lease call {@code request}, whose answer it could not read or
     * lost in transport (no lease token to name): 200 naming the conversion released (or failed: counted like a
     * hand-back for trouble), or {@code outcome: none} ({@code released: false}) when this worker holds no lease for
     * that request (a repeat, the call never reached the registry, or not yet: a late lease call).
     */
    @PostMapping("/api/v1/conversions/lease-requests/{request}/release")
    @Allowed(Role.WORKER)
    RequestRelease releaseRequest(@PathVariable java.util.UUID request, @RequestBody RequestReleaseReport req) {
        return conversions.releaseRequest(request, req.worker(), req.reason());
    }

    @PostMapping("/api/v1/conversions/{id}/fail")
    @Allowed(Role.WORKER)
    ConversionView fail(@PathVariable long id, @RequestBody FailReport req) {
        return conversions.fail(id, req.leaseToken(), req.reason());
    }
}

package io.aneforge.registry.audit;

import io.aneforge.registry.auth.Allowed;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class AuditController {

    private final AuditEvents events;
    private final RefusedWrites refusals;

    AuditController(AuditEvents events, RefusedWrites refusals) {
        this.events = events;
        this.refusals = refusals;
    }

    /**
     * Admin: the audit trail, newest first; each filter optional ({@code model}, {@code action} and {@code requestId}
     * (what one request changed: the {@code X-Request-Id} of its answer) exact,
     * {@code since} an ISO-8601 date-time, inclusive), {@code limit} per page (default 100, at most 500), and
     * {@code before} the previous page's {@code nextBefore} for the next, older one.
     */
    @GetMapping("/api/v1/audit")
    @Allowed
    AuditEvents.Page list(@RequestParam(required = false) String model, @RequestParam(required = false) String action,
                          @RequestParam(required = false) String requestId, @RequestParam(required = false) String since, @RequestParam(required = false) String before,
                          @RequestParam(required = false) String limit) {
        return events.page(new AuditEvents.Query(model, action, requestId, since, before, limit));
    }

    /**
     * Admin: refusals, newest row first, apart from the done writes above: one row per hour, kind, token (or, for a
     * 401, the presented token's fingerprint), endpoint, problem type and model with its count and its first and last
     * request; filters optional ({@code kind} ({@code refused-write}, {@code refused-read}, {@code invalid-write},
     * {@code unauthenticated}), {@code status}, {@code tokenFingerprint}, {@code model}, {@code problemType} (the slug,
     * e.g. {@code gates-not-met}) and {@code requestId} (the first or last request of a row) exact, {@code since} on
     * the last refusal), {@code limit} and {@code before} as above.
     */
    @GetMapping("/api/v1/audit/refusals")
    @Allowed
    RefusedWrites.Page refusals(@RequestParam(required = false) String model,
                                @RequestParam(required = false) String problemType,
                                @RequestParam(required = false) String requestId,
                                @RequestParam(required = false) String since, @RequestParam(required = false) String before,
                                @RequestParam(required = false) String limit, @RequestParam(required = false) String kind,
                                @RequestParam(required = false) String status,
                                @RequestParam(required = false) String tokenFingerprint) {
        return refusals.page(new RefusedWrites.Query(model, problemType, requestId, since, before, limit, kind, status,
                tokenFingerprint));
    }
}

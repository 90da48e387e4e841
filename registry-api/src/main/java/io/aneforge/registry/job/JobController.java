package io.aneforge.registry.job;

import io.aneforge.registry.agent.Agents;
import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.job.JobRecords.AccuracyRuns;
import io.aneforge.registry.job.JobRecords.Golden;
import io.aneforge.registry.job.JobRecords.HandBack;
import io.aneforge.registry.job.JobRecords.RequestRelease;
import io.aneforge.registry.job.JobRecords.Heartbeat;
import io.aneforge.registry.job.JobRecords.HeartbeatAck;
import io.aneforge.registry.job.JobRecords.JobView;
import io.aneforge.registry.job.JobRecords.LeaseView;
import io.aneforge.registry.job.JobRecords.Release;
import io.aneforge.registry.job.JobRecords.Report;
import io.aneforge.registry.job.JobRecords.ResultView;
import io.aneforge.registry.problem.ApiProblem;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
class JobController {

    /** Long-polls re-check the queue at least this often (jobs created on other registry instances). */
    static final long RECHECK_MS = 500;

    private final Jobs jobs;
    private final Agents agents;
    private final LeaseSignal signal;
    private final Audit audit;

    JobController(Jobs jobs, Agents agents, LeaseSignal signal, Audit audit) {
        this.jobs = jobs;
        this.agents = agents;
        this.signal = signal;
        this.audit = audit;
    }

    /**
     * Leases one job matching the agent's chip and runtimes: 200 with the lease, or 204 when there is
     * none. {@code wait} (seconds, capped by {@code aneforge.agents.max-lease-wait}) holds the call
     * open until a job appears. {@code instance}: which process of the agent asks (the {@code instanceId} it
     * registered with), kept with the lease so that its restart hands the lease back; {@code process}: that process's
     * start (the {@code processId} it registered with), so that its own registrations never hand the lease back.
     */
    @PostMapping("/api/v1/agents/{id}/lease")
    @Allowed(Role.AGENT)
    ResponseEntity<LeaseView> lease(@PathVariable UUID id, @RequestParam(defaultValue = "0") double wait,
                                    @RequestParam(required = false) UUID request,
                                    @RequestParam(required = false) UUID instance,
                                    @RequestParam(required = false) UUID process,
                                    HttpServletRequest http) throws InterruptedException {
        if (!(wait >= 0)) {
            throw ApiProblem.badRequest("invalid-parameter", "Invalid parameter", "wait must be >= 0 seconds, got " + wait);
        }
        Caller caller = Caller.of(http);
        long maxMs = Math.min((long) (wait * 1000), agents.fleet().maxLeaseWait().toMillis());
        long deadline = System.nanoTime() + maxMs * 1_000_000;
        while (true) {
            long seen = signal.generation();
            Optional<LeaseView> lease = jobs.lease(id, request, instance, process, caller);
            if (lease.isPresent()) return ResponseEntity.ok(lease.get());
            long left = (deadline - System.nanoTime()) / 1_000_000;
            // stopping: answer "nothing now" at once; the agent asks again (another replica, or this one restarted)
            if (left <= 0 || signal.closing()) return ResponseEntity.noContent().build();
            signal.await(seen, Math.min(left, RECHECK_MS));
        }
    }

    @PostMapping("/api/v1/agents/{id}/heartbeat")
    @Allowed(Role.AGENT)
    HeartbeatAck heartbeat(@PathVariable UUID id, @RequestBody(required = false) Heartbeat req, HttpServletRequest http) {
        return jobs.heartbeat(id, req == null ? null : req.leaseIds(), req == null ? null : req.goldenFormat(),
                Caller.of(http));
    }

    /**
     * 200 with what happened: {@code released} (pending again, no attempt spent) or, for the hand-back with
     * {@code trouble} past {@code aneforge.jobs.max-hand-backs} of this job by this agent, {@code failed}.
     */
    @PostMapping("/api/v1/agents/{id}/jobs/{jobId}/release")
    @Allowed(Role.AGENT)
    HandBack release(@PathVariable UUID id, @PathVariable long jobId, @RequestBody Release req, HttpServletRequest http) {
        if (req.leaseId() == null) {
            throw ApiProblem.badRequest("invalid-request", "Invalid request body", "field 'leaseId' is required");
        }
        return jobs.release(id, jobId, req.leaseId(), req.reason(), Boolean.TRUE.equals(req.trouble()), Caller.of(http));
    }

    /**
     * Releases the job leased to this agent for its lease call with {@code ?request=<id>}, whose answer it could
     * not read or never got: 200 with {@code released}, {@code failed} (counted like a release for trouble unless the
     * body says {@code "trouble": false}) or {@code none} (no lease held for that request).
     */
    @PostMapping("/api/v1/agents/{id}/lease-requests/{request}/release")
    @Allowed(Role.AGENT)
    HandBack releaseRequest(@PathVariable UUID id, @PathVariable UUID request,
                            @RequestBody(required = false) RequestRelease req, HttpServletRequest http) {
        return jobs.releaseRequest(id, request, req == null ? null : req.reason(),
                req == null || !Boolean.FALSE.equals(req.trouble()), Caller.of(http));
    }

    /** 201 with the stored result; 200 with the same result for a repeat; 403 from anyone but the lease holder. */
    @PostMapping("/api/v1/agents/{id}/jobs/{jobId}/result")
    @Allowed(Role.AGENT)
    ResponseEntity<ResultView> report(@PathVariable UUID id, @PathVariable long jobId, @RequestBody Report req,
                                      HttpServletRequest http) {
        Jobs.Reported r = jobs.report(id, jobId, req, Caller.of(http));
        return ResponseEntity.status(r.created() ? HttpStatus.CREATED : HttpStatus.OK).body(r.result());
    }

    @GetMapping("/api/v1/models/{name}/versions/{version}/jobs")
    @Allowed(anyRole = true)
    List<JobView> jobs(@PathVariable String name, @PathVariable int version) {
        return jobs.jobs(name, version);
    }

    @GetMapping("/api/v1/models/{name}/versions/{version}/results")
    @Allowed(anyRole = true)
    List<ResultView> results(@PathVariable String name, @PathVariable int version) {
        return jobs.results(name, version);
    }

    /**
     * Queues the version's accuracy jobs again (new jobs; earlier results stay as history): 202 with what was queued,
     * 409 when the version is yanked, has no golden data or no available variant, or every accuracy job is still open.
     */
    @PostMapping("/api/v1/models/{name}/versions/{version}/accuracy-runs")
    @Allowed(Role.PUBLISHER)
    ResponseEntity<AccuracyRuns> rerunAccuracy(@PathVariable String name, @PathVariable int version, HttpServletRequest http) {
        AccuracyRuns runs = audit.record(Caller.of(http), () -> jobs.rerunAccuracy(name, version), queued -> Audit.Event.of(
                "accuracy.rerun").onVersion(name, version).with("queued", queued.queued()).with("alreadyOpen", queued.alreadyOpen()));
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(runs);
    }

    /** The pipeline stores the golden inputs and outputs (GoldenOutputsCodec blobs) the jobs compare against. */
    @PutMapping("/api/v1/models/{name}/versions/{version}/golden")
    @Allowed({Role.PUBLISHER, Role.WORKER})
    Golden golden(@PathVariable String name, @PathVariable int version, @RequestBody Golden req, HttpServletRequest http) {
        return audit.recordIfChanged(Caller.of(http), () -> jobs.setGolden(name, version, req), stored -> Audit.Event.of(
                "golden.put").onVersion(name, version).with("inputs", stored.inputs()).with("outputs", stored.outputs()));
    }
}

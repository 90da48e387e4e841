package io.aneforge.registry.agent;

import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.job.Jobs;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.UUID;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/agents")
class AgentController {

    record Drain(Boolean draining) {}

    record HandOver(Long tokenId) {}

    private final Agents agents;
    private final Jobs jobs;
    private final Audit audit;

    AgentController(Agents agents, Jobs jobs, Audit audit) {
        this.agents = agents;
        this.jobs = jobs;
        this.audit = audit;
    }

    /**
     * Registers this host (idempotent by host name: a restart gets its id back). A host registered with
     * another live token is 409 host-owned-by-another-token (docs/agents.md, "Switching a host's token"). A
     * registration naming an {@code instanceId} is that agent process starting (again): the jobs still leased to that
     * instance are handed back ({@link Jobs#handBackRestarted}), listed in the answer's {@code handedBack}. In a
     * transaction of its own after the registration's: should it fail, the agent (answered 5xx) registers again and
     * the hand-back runs again.
     */
    @PostMapping
    @Allowed(Role.AGENT)
    Agents.AgentView register(@RequestBody Agents.NewAgent req, HttpServletRequest http) {
        Agents.AgentView agent = agents.register(req, Caller.of(http));
        if (req.instanceId() == null) return agent;
        return agent.with(jobs.handBackRestarted(agent.identity(), req.instanceId(), req.processId()));
    }

    /** Agents, without the retired ones unless {@code ?retired=true}. */
    @GetMapping
    @Allowed(anyRole = true)
    List<Agents.AgentView> list(@RequestParam(name = "retired", defaultValue = "false") boolean retired) {
        return agents.list(retired);
    }

    /** Admin: retires an agent that is gone (kept for its results' provenance, no longer listed); see {@link Agents#retire}. */
    @DeleteMapping("/{id}")
    @Allowed
    Agents.AgentView retire(@PathVariable UUID id, HttpServletRequest http) {
        return audit.record(Caller.of(http), () -> agents.retire(id, Caller.of(http)), retired -> Audit.Event.of(
                "agent.retire").onAgent(id).with("hostName", retired.hostName()));
    }

    /** Admin: moves the host to another agent token (the old token is refused from then on). */
    @PutMapping("/{id}/token")
    @Allowed
    Agents.AgentView handOver(@PathVariable UUID id, @RequestBody HandOver req, HttpServletRequest http) {
        return agents.handOver(id, req.tokenId(), Caller.of(http));
    }

    /** {@code {"draining": true}}: take no new jobs (the job in hand finishes); false resumes. */
    @PostMapping("/{id}/drain")
    @Allowed(Role.AGENT)
    Agents.AgentView drain(@PathVariable UUID id, @RequestBody Drain req, HttpServletRequest http) {
        return agents.drain(id, req.draining() == null || req.draining(), Caller.of(http));
    }
}

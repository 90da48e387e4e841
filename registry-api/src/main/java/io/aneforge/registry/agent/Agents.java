package io.aneforge.registry.agent;

import io.aneforge.chips.ChipCatalog;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.problem.ApiProblem;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Device agents: registration (idempotent by host name), the online/offline/draining state, and
 * the check that a caller may act as a given agent (its registering token, or an admin).
 */
@Service
public class Agents {

    static final Pattern RUNTIME_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    /** What a host says about itself when it registers. */
    public record NewAgent(String hostName, String osName, String osVersion, String osBuild, String arch,
                           String cpuBrand, Long memoryBytes, String chip, List<String> runtimes) {}

    /**
     * @param state {@code online}, {@code offline} (not heard from within {@code aneforge.agents.offline-after})
     *     or {@code draining} (takes no new jobs)
     */
    public record AgentView(UUID id, String hostName, String osName, String osVersion, String osBuild, String arch,
                            String cpuBrand, long memoryBytes, String chip, List<String> runtimes, String state,
                            String registeredBy, Instant registeredAt, Instant lastSeenAt,
                            long heartbeatIntervalMs, long leaseDurationMs) {}

    private final AgentRepository repo;
    private final JdbcClient jdbc;
    private final ChipCatalog chips;
    private final FleetProperties fleet;
    private final Clock clock;
    private final java.time.Duration touchEvery;

    Agents(AgentRepository repo, JdbcClient jdbc, ChipCatalog chips, FleetProperties fleet) {
        this.repo = repo;
        this.jdbc = jdbc;
        this.chips = chips;
        this.fleet = fleet;
        this.clock = Clock.systemUTC();
        java.time.Duration tenth = fleet.offlineAfter().dividedBy(10);
        this.touchEvery = tenth.compareTo(java.time.Duration.ofSeconds(5)) < 0 ? tenth : java.time.Duration.ofSeconds(5);
    }

    public FleetProperties fleet() {
        return fleet;
    }

    /** Registers a host, or updates it when the host name is already known (restarts keep their id). */
    @Transactional
    public AgentView register(NewAgent n, Caller caller) {
        NewAgent valid = validate(n);
        Instant now = clock.instant();
        Agent agent = repo.findByHostName(valid.hostName()).orElse(null);
        if (agent == null) {
            agent = new Agent(UUID.randomUUID(), valid.hostName(), now);
            agent.describe(valid, caller.tokenId(), caller.name(), now);
            try {
                repo.saveAndFlush(agent);
            } catch (DataIntegrityViolationException race) {
                // Two registrations of one host name at once: the other one won; describe that row.
                throw ApiProblem.conflict("agent-registration-race", "Concurrent registration",
                        "host '" + valid.hostName() + "' was registered concurrently; retry the registration");
            }
        } else {
            agent.describe(valid, caller.tokenId(), caller.name(), now);
        }
        return view(agent, now);
    }

    private NewAgent validate(NewAgent n) {
        if (n == null) throw invalid("the request body must describe the host");
        String host = text(n.hostName(), "hostName");
        if (host.length() > 255) throw invalid("hostName must be at most 255 characters");
        text(n.osName(), "osName");
        text(n.osVersion(), "osVersion");
        text(n.osBuild(), "osBuild");
        text(n.arch(), "arch");
        text(n.cpuBrand(), "cpuBrand");
        if (n.memoryBytes() == null || n.memoryBytes() <= 0) {
            throw invalid("memoryBytes must be a positive number of bytes, got " + n.memoryBytes());
        }
        if (n.chip() != null && chips.chip(n.chip()).isEmpty()) {
            throw ApiProblem.badRequest("unknown-chip", "Unknown chip", "chip '" + n.chip()
                    + "' is not in the catalog (GET /api/v1/chips); send null for a host without an Apple chip");
        }
        if (n.runtimes() == null || n.runtimes().isEmpty()) {
            throw invalid("runtimes must list the runtime ids this host offers, e.g. [\"coreml\", \"reference-cpu\"]");
        }
        for (String r : n.runtimes()) {
            if (r == null || !RUNTIME_ID.matcher(r).matches()) {
                throw invalid("runtime id '" + r + "' must match " + RUNTIME_ID.pattern());
            }
        }
        List<String> runtimes = List.copyOf(new LinkedHashSet<>(n.runtimes()));
        return new NewAgent(host, n.osName(), n.osVersion(), n.osBuild(), n.arch(), n.cpuBrand(), n.memoryBytes(),
                n.chip(), runtimes);
    }

    private static String text(String v, String field) {
        if (v == null || v.isBlank()) throw invalid(field + " is required and must not be blank");
        return v.trim();
    }

    private static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("invalid-agent", "Invalid agent registration", detail);
    }

    @Transactional(readOnly = true)
    public List<AgentView> list() {
        Instant now = clock.instant();
        return repo.findAllByOrderByHostName().stream().map(a -> view(a, now)).toList();
    }

    /** What the job queue needs of the agent making a call. */
    public record Acting(UUID id, String hostName, String chip, boolean draining) {}

    private record ActingRow(Acting agent, Long tokenId, Instant lastSeenAt) {}

    /**
     * The agent {@code id}, after checking that {@code caller} may act as it (the token that
     * registered it, or an admin), and marks it as heard from. One plain-JDBC read: this runs on
     * every lease and report of a busy queue.
     */
    @Transactional
    public Acting acting(UUID id, Caller caller) {
        ActingRow row = jdbc.sql("SELECT host_name, chip, draining, token_id, last_seen_at FROM agent WHERE id = ?")
                .param(id)
                .query((rs, i) -> new ActingRow(new Acting(id, rs.getString(1), rs.getString(2), rs.getBoolean(3)),
                        (Long) rs.getObject(4), rs.getObject(5, java.time.OffsetDateTime.class).toInstant()))
                .optional()
                .orElseThrow(() -> ApiProblem.notFound("agent-not-found", "Agent not found",
                        "no agent with id " + id + "; register with POST /api/v1/agents first"));
        if (caller.role() != Role.ADMIN && (row.tokenId() == null || !row.tokenId().equals(caller.tokenId()))) {
            throw new ApiProblem(HttpStatus.FORBIDDEN, "not-your-agent", "Not your agent",
                    "agent " + id + " (" + row.agent().hostName() + ") was registered with another token; an agent acts"
                            + " only with the token it registered with (re-register to switch tokens)");
        }
        // Last-seen is only as precise as the offline rule needs: rewriting the agent row on every
        // lease and report would double the writes of a busy queue.
        Instant now = clock.instant();
        if (row.lastSeenAt().isBefore(now.minus(touchEvery))) {
            jdbc.sql("UPDATE agent SET last_seen_at = ? WHERE id = ?").params(java.sql.Timestamp.from(now), id).update();
        }
        return row.agent();
    }

    @Transactional
    public AgentView drain(UUID id, boolean draining, Caller caller) {
        acting(id, caller);
        Agent agent = repo.findById(id).orElseThrow();
        agent.setDraining(draining);
        return view(agent, clock.instant());
    }

    public AgentView view(Agent a, Instant now) {
        String state = a.draining() ? "draining" : online(a, now) ? "online" : "offline";
        return new AgentView(a.id(), a.hostName(), a.osName(), a.osVersion(), a.osBuild(), a.arch(), a.cpuBrand(),
                a.memoryBytes(), a.chip(), a.runtimes(), state, a.registeredBy(), a.registeredAt(), a.lastSeenAt(),
                fleet.heartbeatInterval().toMillis(), fleet.leaseDuration().toMillis());
    }

    public boolean online(Agent a, Instant now) {
        return a.lastSeenAt().isAfter(now.minus(fleet.offlineAfter()));
    }

    /** Agents heard from within {@code offline-after} and not draining: who could take a job now. */
    @Transactional(readOnly = true)
    public List<Agent> onlineAgents() {
        Instant now = clock.instant();
        return repo.findAllByOrderByHostName().stream().filter(a -> !a.draining() && online(a, now)).toList();
    }
}

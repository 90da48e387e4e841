package io.aneforge.registry.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.cache.ExpiringCache;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.job.Runtimes;
import io.aneforge.registry.problem.ApiProblem;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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

    private static final Logger log = LoggerFactory.getLogger(Agents.class);

    static final Pattern RUNTIME_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    /**
     * What a host says about itself when it registers.
     *
     * @param goldenFormat the newest golden data format version ({@code GoldenOutputsCodec}) the agent reads; null
     *     (agents from before it was sent) is taken as 1. Jobs whose golden data is newer are not leased to it.
     * @param instanceId which agent process this is across restarts (its cache directory's slot id), or null
     * @param processId this start of that process (a random id per process, also sent with its lease calls), or null:
     *     a registration hands back only leases its instance got in another process, so a delayed duplicate of
     *     this process's own registration takes nothing away from it
     */
    public record NewAgent(String hostName, String osName, String osVersion, String osBuild, String arch,
                           String cpuBrand, Long memoryBytes, String chip, List<String> runtimes, Integer goldenFormat,
                           UUID instanceId, UUID processId) {

        /** A registration that names no instance (agents from before instances were sent). */
        public NewAgent(String hostName, String osName, String osVersion, String osBuild, String arch, String cpuBrand,
                        Long memoryBytes, String chip, List<String> runtimes, Integer goldenFormat) {
            this(hostName, osName, osVersion, osBuild, arch, cpuBrand, memoryBytes, chip, runtimes, goldenFormat, null, null);
        }
    }

    /**
     * The jobs a registration handed back because the registering instance was restarted while it held them
     * ({@code Jobs.handBackRestarted}): {@code released} went back to the queue, {@code failed} were handed back once
     * too often by this agent ({@code aneforge.jobs.max-hand-backs}). Only in the answer to a registration that named
     * an instance.
     */
    public record HandedBack(List<Long> released, List<Long> failed) {}

    /** The most a registration may claim: far beyond any format, small enough to stay an honest number. */
    static final int MAX_GOLDEN_FORMAT = 1000;

    /**
     * @param state {@code online}, {@code offline} (not heard from within {@code aneforge.agents.offline-after})
     *     or {@code draining} (takes no new jobs)
     */
    public record AgentView(UUID id, String hostName, String osName, String osVersion, String osBuild, String arch,
                            String cpuBrand, long memoryBytes, String chip, List<String> runtimes, int goldenFormat, String state,
                            String registeredBy, Instant registeredAt, Instant lastSeenAt,
                            long heartbeatIntervalMs, long leaseDurationMs,
                            @JsonInclude(JsonInclude.Include.NON_NULL) HandedBack handedBack) {

        /** This view as the answer to a registration that handed {@code back} jobs of the restarted instance. */
        public AgentView with(HandedBack back) {
            return new AgentView(id, hostName, osName, osVersion, osBuild, arch, cpuBrand, memoryBytes, chip, runtimes,
                    goldenFormat, state, registeredBy, registeredAt, lastSeenAt, heartbeatIntervalMs, leaseDurationMs, back);
        }

        /** Who registered, for the job queue's restart hand-back. */
        public Identity identity() {
            return new Identity(id, hostName, chip);
        }
    }

    private final AgentRepository repo;
    private final JdbcClient jdbc;
    private final ChipCatalog chips;
    private final FleetProperties fleet;
    private final Clock clock;
    private final java.time.Duration touchEvery;
    private final ExpiringCache<UUID, Known> identities;
    private final Audit audit;

    Agents(AgentRepository repo, JdbcClient jdbc, ChipCatalog chips, FleetProperties fleet, RegistryProperties registry,
           Audit audit) {
        this.audit = audit;
        this.repo = repo;
        this.jdbc = jdbc;
        this.chips = chips;
        this.fleet = fleet;
        this.clock = Clock.systemUTC();
        java.time.Duration tenth = fleet.offlineAfter().dividedBy(10);
        this.identities = new ExpiringCache<>(registry.cacheTtl(), 10_000);
        this.touchEvery = tenth.compareTo(java.time.Duration.ofSeconds(5)) < 0 ? tenth : java.time.Duration.ofSeconds(5);
    }

    public FleetProperties fleet() {
        return fleet;
    }

    /**
     * Registers a host, or updates it when the host name is already known (restarts keep their id, so the
     * results it reported stay its own). A known host stays with the token that registered it: another token
     * gets {@code 409 host-owned-by-another-token} unless it is an admin's or the owner's token is revoked
     * (see {@link #requireMayClaim}); an admin moves a live host with {@link #handOver}.
     *
     * <p>Audited ({@code agent.register}) when it changes who the host is or whether it is listed: a new host, a host
     * bound to another token than before, a retired host listed again. A registration with the host's own token (a
     * restart) is audited as {@code agent.restart} when what the host says about itself changed (OS, CPU, memory,
     * chip, runtimes, golden data format: the detail has each changed fact before and after) or the agent was
     * offline (not heard from within {@code aneforge.agents.offline-after}); a restart of an online agent that
     * changed nothing is not, so an agent restarting in a loop adds no rows. It ends a drain, though, which is audited
     * ({@code agent.resume} with {@code registered: true}), so the trail does not leave a drained agent (a SIGTERM
     * drains it: {@code agent.drain}) draining for ever.
     */
    @Transactional
    public AgentView register(NewAgent n, Caller caller) {
        NewAgent valid = validate(n);
        identities.invalidateAfterCommit(); // the token may change: dropped once the new one is committed
        Instant now = clock.instant();
        Agent agent = repo.lockByHostName(valid.hostName()).orElse(null);
        if (agent != null) requireMayClaim(agent, caller);
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
            audit.record(caller, Audit.Event.of("agent.register").onAgent(agent.id()).with("hostName", agent.hostName())
                    .with("new", true));
        } else {
            boolean retired = agent.retiredAt() != null;
            boolean wasDraining = agent.draining();
            Long before = agent.tokenId();
            Map<String, Object> factsBefore = facts(agent);
            Instant lastSeen = agent.lastSeenAt();
            boolean wasOffline = lastSeen.isBefore(now.minus(fleet.offlineAfter()));
            if (retired) {
                log.info("host '{}' (agent {}) registered again after {} retired it; listed again", agent.hostName(),
                        agent.id(), agent.retiredBy());
            }
            agent.describe(valid, caller.tokenId(), caller.name(), now);
            if (retired || !Objects.equals(before, caller.tokenId())) {
                audit.record(caller, Audit.Event.of("agent.register").onAgent(agent.id())
                        .with("hostName", agent.hostName()).with("new", false).with("listedAgain", retired)
                        .with("fromTokenId", before));
            } else {
                Map<String, Object> changed = changes(factsBefore, facts(agent));
                if (wasOffline || !changed.isEmpty()) {
                    audit.record(caller, Audit.Event.of("agent.restart").onAgent(agent.id())
                            .with("hostName", agent.hostName()).with("wasOffline", wasOffline)
                            .with("lastSeenAt", lastSeen.toString()).with("changed", changed));
                }
            }
            if (wasDraining) {
                audit.record(caller, Audit.Event.of("agent.resume").onAgent(agent.id()).with("hostName", agent.hostName())
                        .with("registered", true));
            }
        }
        return view(agent, now);
    }

    /** What a host says about itself, as a restart may change it (the facts {@code agent.restart} compares). */
    private static Map<String, Object> facts(Agent a) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("osName", a.osName());
        f.put("osVersion", a.osVersion());
        f.put("osBuild", a.osBuild());
        f.put("arch", a.arch());
        f.put("cpuBrand", a.cpuBrand());
        f.put("memoryBytes", a.memoryBytes());
        f.put("chip", a.chip());
        f.put("runtimes", a.runtimes());
        f.put("goldenFormat", a.goldenFormat());
        return f;
    }

    /** Each fact that differs, as {@code {"before": .., "after": ..}}, in the facts' order. */
    private static Map<String, Object> changes(Map<String, Object> before, Map<String, Object> after) {
        Map<String, Object> changed = new LinkedHashMap<>();
        before.forEach((key, was) -> {
            Object is = after.get(key);
            if (!Objects.equals(was, is)) {
                Map<String, Object> pair = new LinkedHashMap<>();
                pair.put("before", was);
                pair.put("after", is);
                changed.put(key, pair);
            }
        });
        return changed;
    }

    /**
     * Whether {@code caller} may register a host name that is already known. Host names are what agents
     * call themselves, not secrets, so a name alone must not move a host (its leases, its place in the
     * matrix's provenance) from the token that registered it to any other agent token. Allowed: the same
     * token (an agent restart), an admin (who may act as any agent anyway), and any token once the
     * owner's token is revoked (the owner can no longer act, so nobody loses the host). Anything else is
     * refused with the two ways to switch a host's token on purpose.
     */
    private void requireMayClaim(Agent agent, Caller caller) {
        Long owner = agent.tokenId();
        if (caller.role() == Role.ADMIN || Objects.equals(owner, caller.tokenId())) return;
        if (owner != null && revoked(owner)) {
            log.info("host '{}' (agent {}) moves from revoked token #{} to token #{} ({})", agent.hostName(),
                    agent.id(), owner, caller.tokenId(), caller.name());
            return;
        }
        String ownedBy = owner == null ? "the bootstrap admin token" : "another token (#" + owner + ")";
        String revoke = owner == null ? "" : "revoke the old token if no other host uses it (an admin: DELETE /api/v1/tokens/"
                + owner + "), or ";
        throw ApiProblem.conflict("host-owned-by-another-token", "Host registered with another token",
                        "host '" + agent.hostName() + "' is registered as agent " + agent.id() + " with " + ownedBy
                                + ", and a token cannot take over another token's host. To switch this host to this token (#"
                                + caller.tokenId() + "): " + revoke + "have an admin hand the host over (PUT /api/v1/agents/"
                                + agent.id() + "/token {\"tokenId\": " + caller.tokenId() + "}); then register again. The"
                                + " host keeps its agent id and its reported results either way")
                .with("hostName", agent.hostName())
                .with("agentId", agent.id().toString());
    }

    private boolean revoked(long tokenId) {
        // A token row is never deleted (agents reference it): a missing one cannot act either.
        return jdbc.sql("SELECT revoked_at IS NOT NULL FROM api_token WHERE id = ?").param(tokenId)
                .query(Boolean.class).optional().orElse(true);
    }

    /**
     * An admin moves agent {@code id} to agent token {@code tokenId}: the old token is refused at once (on
     * this instance; others within {@code aneforge.cache-ttl}), the new one may register the host and act
     * as it. The agent keeps its id, state and results. Audited ({@code agent.handover}: the agent, its host and
     * both token ids, never a token) unless the host is with {@code tokenId} already (a repeat changes nothing).
     */
    @Transactional
    public AgentView handOver(UUID id, Long tokenId, Caller by) {
        if (tokenId == null) {
            throw ApiProblem.badRequest("invalid-handover", "Invalid handover",
                    "tokenId is required: the id of the agent token the host switches to (GET /api/v1/tokens)");
        }
        record Target(String name, String role, boolean revoked) {}
        Target target = jdbc.sql("SELECT name, role, revoked_at IS NOT NULL FROM api_token WHERE id = ?").param(tokenId)
                .query((rs, i) -> new Target(rs.getString(1), rs.getString(2), rs.getBoolean(3)))
                .optional()
                .orElseThrow(() -> ApiProblem.notFound("token-not-found", "Token not found", "no token with id " + tokenId
                        + "; mint one with POST /api/v1/tokens {\"name\": ..., \"role\": \"agent\"}"));
        if (target.revoked()) {
            throw ApiProblem.badRequest("invalid-handover", "Invalid handover",
                    "token #" + tokenId + " (" + target.name() + ") is revoked; hand the host to a live agent token");
        }
        if (Role.fromWire(target.role()) != Role.AGENT) {
            throw ApiProblem.badRequest("invalid-handover", "Invalid handover",
                    "token #" + tokenId + " (" + target.name() + ") has role '" + target.role()
                            + "'; a host is handed to a token of role 'agent'");
        }
        Agent agent = repo.lockById(id).orElseThrow(() -> ApiProblem.notFound("agent-not-found", "Agent not found",
                "no agent with id " + id + " (GET /api/v1/agents lists them)"));
        if (tokenId.equals(agent.tokenId())) return view(agent, clock.instant());
        identities.invalidateAfterCommit();
        log.info("host '{}' (agent {}) handed from token #{} to token #{} ({}) by {}", agent.hostName(), id,
                agent.tokenId(), tokenId, target.name(), by.name());
        audit.record(by, Audit.Event.of("agent.handover").onAgent(id).with("hostName", agent.hostName())
                .with("fromTokenId", agent.tokenId()).with("toTokenId", tokenId));
        agent.handTo(tokenId);
        return view(agent, clock.instant());
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
            if (!Runtimes.KNOWN.contains(r)) {
                // Worded like the device agent's own refusal (RuntimeSelection): the id, the known ones, the fix.
                throw ApiProblem.badRequest("unknown-runtime", "Unknown runtime", "runtimes lists '" + r
                                + "', but the registry queues jobs for no runtime with that id; known: " + Runtimes.KNOWN
                                + ". Fix the agent's runtime list (env ANEFORGE_AGENT_RUNTIMES)")
                        .with("runtime", r)
                        .with("knownRuntimes", Runtimes.KNOWN);
            }
        }
        List<String> runtimes = List.copyOf(new LinkedHashSet<>(n.runtimes()));
        int goldenFormat = n.goldenFormat() == null ? 1 : n.goldenFormat();
        if (!knownGoldenFormat(goldenFormat)) throw invalid(goldenFormatRule("omit it for 1") + n.goldenFormat());
        return new NewAgent(host, n.osName(), n.osVersion(), n.osBuild(), n.arch(), n.cpuBrand(), n.memoryBytes(),
                n.chip(), runtimes, goldenFormat, n.instanceId(), n.processId());
    }

    private static String text(String v, String field) {
        if (v == null || v.isBlank()) throw invalid(field + " is required and must not be blank");
        return v.trim();
    }

    private static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("invalid-agent", "Invalid agent registration", detail);
    }

    @Transactional(readOnly = true)
    public List<AgentView> list(boolean withRetired) {
        Instant now = clock.instant();
        return repo.findAllByOrderByHostName().stream().filter(a -> withRetired || a.retiredAt() == null)
                .map(a -> view(a, now)).toList();
    }

    /**
     * Admin: retires an agent that is gone for good (a host decommissioned, a pod name that will never come back),
     * so it leaves the agent list and the fleet gauges. The row stays: results and past leases name it. Refused
     * while the agent is online (it would only come back with its next call) or holds a lease. Retiring a retired
     * agent again changes nothing. The agent is listed again once it registers or calls as itself.
     */
    @Transactional
    public AgentView retire(UUID id, Caller caller) {
        Agent agent = repo.lockById(id).orElseThrow(() -> ApiProblem.notFound("agent-not-found", "Agent not found",
                "no agent with id " + id + " (GET /api/v1/agents?retired=true lists every agent)"));
        Instant now = clock.instant();
        if (agent.retiredAt() != null) {
            return view(agent, now);
        }
        if (online(agent, now)) {
            throw ApiProblem.conflict("agent-online", "Agent is online",
                    "agent " + id + " (" + agent.hostName() + ") was heard from at " + agent.lastSeenAt() + ", within "
                            + "aneforge.agents.offline-after (" + fleet.offlineAfter() + "); retire only an agent that is gone: "
                            + "stop it (its own drain, e.g. SIGTERM, lets its job finish first), then retry once it shows "
                            + "offline").with("agentId", id.toString());
        }
        Long leases = jdbc.sql("SELECT count(*) FROM job WHERE leased_by = ? AND state = 'leased'").param(id)
                .query(Long.class).single();
        if (leases > 0) {
            throw ApiProblem.conflict("agent-holds-leases", "Agent holds leases",
                    "agent " + id + " (" + agent.hostName() + ") still holds " + leases + " leased job(s); they return to "
                            + "the queue when their leases expire (aneforge.agents.lease-duration, " + fleet.leaseDuration()
                            + "): retry after that").with("agentId", id.toString());
        }
        agent.retire(caller.name(), now);
        log.info("agent {} (host '{}') retired by {}", id, agent.hostName(), caller.name());
        return view(agent, now);
    }

    /** What the job queue needs of the agent making a call. */
    /** @param goldenFormat the newest golden data format the agent said it reads (at registration or since) */
    public record Acting(Identity identity, boolean draining, int goldenFormat) {}

    /** Who an agent is: fixed for its id (registration is idempotent by host name), but for the token. */
    public record Identity(UUID id, String hostName, String chip) {}

    private record Row(Identity identity, boolean draining, Long tokenId, Instant lastSeenAt, boolean retired,
                       int goldenFormat) {}

    private record Known(Identity identity, Long tokenId, boolean retired) {}

    /**
     * The agent {@code id}, after checking that {@code caller} may act as it (the token that
     * registered it, or an admin), and marks it as heard from. Reads the agent's row: for calls
     * that need the current draining flag (heartbeats, releases, drains).
     */
    @Transactional
    public Acting acting(UUID id, Caller caller) {
        Row row = load(id);
        authorize(row.identity(), row.tokenId(), caller);
        unretireIfCalledByItself(row.retired(), row.identity(), caller);
        touchIfDue(id, row.lastSeenAt());
        return new Acting(row.identity(), row.draining(), row.goldenFormat());
    }

    /**
     * The same check for the job queue's hot path (every lease and report), answered from a cache
     * of at most {@code aneforge.cache-ttl} age: a busy agent costs one read of its row per TTL,
     * not one per call. Registering and handing over (the only ways an agent's token changes) clear this
     * instance's cache when it commits; other instances see it within the TTL, as with tokens. Callers that need
     * the draining flag read it in their own statement. Runs in the caller's transaction (the job
     * queue's plain JDBC one), so it is deliberately not {@code @Transactional}.
     */
    public Identity identify(UUID id, Caller caller) {
        Known known = identities.get(id, key -> {
            Row row = load(key);
            touchIfDue(key, row.lastSeenAt());
            return new Known(row.identity(), row.tokenId(), row.retired());
        });
        authorize(known.identity(), known.tokenId(), caller);
        unretireIfCalledByItself(known.retired(), known.identity(), caller);
        return known.identity();
    }

    private Row load(UUID id) {
        Row row = jdbc.sql("SELECT host_name, chip, draining, token_id, last_seen_at, retired_at IS NOT NULL, golden_format"
                        + " FROM agent WHERE id = ?")
                .param(id)
                .query((rs, i) -> new Row(new Identity(id, rs.getString(1), rs.getString(2)), rs.getBoolean(3),
                        (Long) rs.getObject(4), rs.getObject(5, OffsetDateTime.class).toInstant(), rs.getBoolean(6),
                        rs.getInt(7)))
                .optional()
                .orElseThrow(() -> ApiProblem.notFound("agent-not-found", "Agent not found",
                        "no agent with id " + id + "; register with POST /api/v1/agents first"));
        return row;
    }

    /** The one range check of an agent's {@code goldenFormat}, for registrations and heartbeats alike. */
    private static boolean knownGoldenFormat(int goldenFormat) {
        return goldenFormat >= 1 && goldenFormat <= MAX_GOLDEN_FORMAT;
    }

    private static String goldenFormatRule(String whenOmitted) {
        return "goldenFormat must be the newest golden data format version the agent reads (1 to " + MAX_GOLDEN_FORMAT
                + "; " + whenOmitted + "), got ";
    }

    /** Records the golden data format an agent says it reads (a heartbeat's), checked as at registration. */
    @Transactional
    public void goldenFormat(UUID id, int goldenFormat) {
        if (!knownGoldenFormat(goldenFormat)) {
            throw ApiProblem.badRequest("invalid-heartbeat", "Invalid heartbeat",
                    goldenFormatRule("omit it to keep the registered one") + goldenFormat);
        }
        jdbc.sql("UPDATE agent SET golden_format = ? WHERE id = ?").params(goldenFormat, id).update();
    }

    /**
     * A retired agent that calls as itself (its own token, after authorization) was not gone after all: listed again.
     * An admin acting on it (a drain, a handover) is not the agent being heard from, so it stays retired.
     */
    private void unretireIfCalledByItself(boolean retired, Identity agent, Caller caller) {
        if (!retired || caller.role() == Role.ADMIN) return;
        if (jdbc.sql("UPDATE agent SET retired_at = NULL, retired_by = NULL WHERE id = ? AND retired_at IS NOT NULL")
                .param(agent.id()).update() > 0) {
            log.info("retired agent {} (host '{}') called again; listed again", agent.id(), agent.hostName());
            // the usual undoing of an audited retirement, so audited too (review-r21); only the first call does it
            audit.record(caller, Audit.Event.of("agent.unretire").onAgent(agent.id()).with("hostName", agent.hostName()));
        }
    }

    private static void authorize(Identity agent, Long tokenId, Caller caller) {
        if (caller.role() != Role.ADMIN && (tokenId == null || !tokenId.equals(caller.tokenId()))) {
            throw new ApiProblem(HttpStatus.FORBIDDEN, "not-your-agent", "Not your agent",
                    "agent " + agent.id() + " (" + agent.hostName() + ") was registered with another token; an agent acts"
                            + " only with the token it registered with (to switch tokens: revoke the old one, or an admin hands the"
                            + " host over with PUT /api/v1/agents/" + agent.id() + "/token; then register again)");
        }
    }

    /**
     * Last-seen is only as precise as the offline rule needs: rewriting the agent row on every
     * lease and report would double the writes of a busy queue.
     */
    private void touchIfDue(UUID id, Instant lastSeenAt) {
        Instant now = clock.instant();
        if (lastSeenAt.isBefore(now.minus(touchEvery))) {
            jdbc.sql("UPDATE agent SET last_seen_at = ? WHERE id = ?").params(now.atOffset(ZoneOffset.UTC), id).update();
        }
    }

    /**
     * Drains ({@code draining} true) or resumes the agent. Audited ({@code agent.drain}, {@code agent.resume}) when it
     * changes the flag; a repeat (draining a draining agent) answers the same and records nothing. The flag is changed
     * by one conditional UPDATE, so of two concurrent calls (the agent's SIGTERM drain and an admin's, or a retry) only
     * the one that changed it is audited: the other waits on the row and then updates nothing.
     */
    @Transactional
    public AgentView drain(UUID id, boolean draining, Caller caller) {
        acting(id, caller);
        boolean changed = jdbc.sql("UPDATE agent SET draining = ? WHERE id = ? AND draining <> ?")
                .params(draining, id, draining).update() == 1;
        Agent agent = repo.findById(id).orElseThrow();
        if (changed) {
            audit.record(caller, Audit.Event.of(draining ? "agent.drain" : "agent.resume").onAgent(id)
                    .with("hostName", agent.hostName()));
        }
        return view(agent, clock.instant());
    }

    public AgentView view(Agent a, Instant now) {
        String state = a.retiredAt() != null ? "retired" : a.draining() ? "draining" : online(a, now) ? "online" : "offline";
        return new AgentView(a.id(), a.hostName(), a.osName(), a.osVersion(), a.osBuild(), a.arch(), a.cpuBrand(),
                a.memoryBytes(), a.chip(), a.runtimes(), a.goldenFormat(), state, a.registeredBy(), a.registeredAt(), a.lastSeenAt(),
                fleet.heartbeatInterval().toMillis(), fleet.leaseDuration().toMillis(), null);
    }

    public boolean online(Agent a, Instant now) {
        return a.lastSeenAt().isAfter(now.minus(fleet.offlineAfter()));
    }

    /** Agents heard from within {@code offline-after} and not draining: who could take a job now. */
    @Transactional(readOnly = true)
    public List<Agent> onlineAgents() {
        Instant now = clock.instant();
        return repo.findAllByOrderByHostName().stream().filter(a -> !a.draining() && a.retiredAt() == null && online(a, now))
                .toList();
    }
}

package io.aneforge.registry.alias;

import io.aneforge.gate.GateStatus;
import io.aneforge.gate.VersionVerdict;
import io.aneforge.names.RegistryNames;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.matrix.Matrices;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.model.ModelRecords.VersionRef;
import io.aneforge.registry.model.RegistryChanged;
import io.aneforge.registry.problem.ApiProblem;
import java.time.OffsetDateTime;
import java.util.List;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Aliases (model + name -> version) and their append-only history. */
@Service
public class Aliases {

    public record AliasView(String model, String alias, int version, String updatedBy, OffsetDateTime updatedAt) {}

    /**
     * @param toVersion    the version the alias points at from then on; null when the alias was deleted
     * @param overridden   an admin moved the alias although the version's gates did not pass
     * @param gateStatus   the gate verdict at the time of an overridden move (null otherwise)
     * @param gateReasons  the verdict's reasons at that time
     * @param gatesInForce the gates the move was checked against (V36); null when not recorded: a deletion (nothing
     *                     is checked), a move made before V36 or by the release before it during a rolling update
     */
    public record HistoryEntry(String alias, Integer fromVersion, Integer toVersion, String changedBy, String reason,
                               OffsetDateTime changedAt, boolean overridden, String gateStatus, List<String> gateReasons,
                               GatesInForce gatesInForce) {}

    /**
     * The gates an alias move was checked against: the stored document as the move copied it, not read through
     * {@code Gates}. The rows are append-only, so a record written by a later release (a field it adds, a precision key
     * this release does not know) can never be edited into this release's form; read through {@code Gates} it would
     * either fail the whole history (its constructor refuses an unknown precision key) or, read leniently, hide a limit
     * the move was checked against. As is, every limit the move was checked against is shown, known or not.
     *
     * @param set   false when the model had no gates: nothing was checked (not the same as "not recorded", which is a
     *              null {@link HistoryEntry#gatesInForce})
     * @param gates the stored gates document (its stored form: {@code minCosineByPrecision} absent when empty); null
     *              when {@code set} is false
     */
    public record GatesInForce(boolean set, JsonNode gates) {
        static final GatesInForce NONE = new GatesInForce(false, null);
    }

    /** Reads recorded gates as a tree: any JSON PostgreSQL stored as JSONB reads, whatever its fields. */
    private static final JsonMapper RECORDED = JsonMapper.builder().build();

    private final JdbcClient jdbc;
    private final Models models;
    private final ApplicationEventPublisher events;
    private final Matrices matrices;

    Aliases(JdbcClient jdbc, Models models, ApplicationEventPublisher events, Matrices matrices) {
        this.jdbc = jdbc;
        this.models = models;
        this.events = events;
        this.matrices = matrices;
    }

    /**
     * Locks the model row until the transaction ends, the first lock of every alias move and deletion (then the
     * version, then the alias: one order everywhere, so no two of them deadlock). It serializes the alias changes of a
     * model: under READ COMMITTED, the alias row lock alone is not enough, since a statement that waits on it re-checks
     * only the locked row, so its join to the alias's old version finds nothing and the move would record no previous
     * version (a delete would answer 404). Taken first, it makes each later statement see the previous change
     * committed. It is also the lock a gate change takes (ModelGates.put), so no gate change commits between a move's
     * verdict and its record of the gates, and version creation (its UPDATE of the row) waits too; FOR NO KEY UPDATE
     * leaves inserts that reference the model (their foreign key check's KEY SHARE) alone.
     *
     * @return the model's id; 404 when there is no such model
     */
    private long lockModel(String model) {
        long id = models.modelId(model);
        jdbc.sql("SELECT id FROM model WHERE id = ? FOR NO KEY UPDATE").param(id).query(Long.class).single();
        return id;
    }

    @Transactional
    public AliasView move(String model, String alias, Integer version, String reason, Caller caller) {
        return move(model, alias, version, reason, false, caller);
    }

    /**
     * Points the alias at a published version whose release gates pass. A version whose gates fail
     * or are still incomplete is refused (409 listing the cells and reasons) unless an admin sends
     * {@code override} with the reason; the override and the verdict are kept in the history. Every move, guarded,
     * overridden or on a model without gates, records the gates it was checked against with it (V36).
     * <p>
     * The model row is locked from the start to the commit ({@link #lockModel}), so the verdict's matrix load runs
     * under it: while a move of a gated model reads its results (and, for a variant not counted yet, its package from
     * storage), gate changes, version creation and other alias changes of that model wait. Moves are rare and the
     * load is short; other models are not affected.
     */
    @Transactional
    public AliasView move(String model, String alias, Integer version, String reason, boolean override, Caller caller) {
        if (!RegistryNames.isAlias(alias)) {
            throw ApiProblem.badRequest("invalid-alias-name", "Invalid alias name",
                    "alias '" + alias + "' must match " + RegistryNames.ALIAS.pattern());
        }
        if (version == null) throw ApiProblem.badRequest("invalid-request", "Invalid request body", "field 'version' is required");
        Models.requireReason(reason);
        lockModel(model);
        VersionRef target = models.lockVersion(model, version);
        if (!"published".equals(target.status())) {
            throw ApiProblem.conflict("version-not-published", "Version not published",
                    "version " + version + " of '" + model + "' is " + target.status()
                            + "; an alias can only point at a published version");
        }
        Integer from = jdbc.sql("SELECT v.version FROM alias a JOIN model_version v ON v.id = a.version_id"
                        + " WHERE a.model_id = ? AND a.name = ? FOR UPDATE OF a")
                .params(target.modelId(), alias).query(Integer.class).optional().orElse(null);
        // equals, not ==: two Integers are the same object only within the small-value cache (-128..127)
        if (version.equals(from)) return get(model, alias);
        // The model row lock keeps gate changes out until the commit: the verdict below and the record read the same.
        VersionVerdict verdict = matrices.promotionVerdict(target.modelId(), model, version);
        boolean overridden = false;
        if (verdict.status() != GateStatus.PASS) {
            if (!override) {
                throw ApiProblem.conflict("gates-not-met", "Release gates not met",
                                "version " + version + " of '" + model + "' does not pass its release gates ("
                                        + verdict.status() + "): " + String.join("; ", verdict.reasons())
                                        + ". Fix the variants, wait for pending results, change the gates"
                                        + " (PUT /api/v1/models/" + model + "/gates), or have an admin send"
                                        + " \"override\": true with the reason")
                        .with("gateStatus", verdict.status().name())
                        .with("failingCells", verdict.failingCells())
                        .with("pendingCells", verdict.pendingCells())
                        .with("reasons", verdict.reasons());
            }
            if (caller.role() != Role.ADMIN) {
                throw new ApiProblem(HttpStatus.FORBIDDEN, "override-needs-admin", "Override needs an admin",
                        "only an admin may move an alias past failing release gates; role '" + caller.role().wireName()
                                + "' may not override").with("gateStatus", verdict.status().name())
                        .with("reasons", verdict.reasons());
            }
            overridden = true;
        }
        jdbc.sql("INSERT INTO alias (model_id, name, version_id, updated_by) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (model_id, name) DO UPDATE SET version_id = EXCLUDED.version_id,"
                        + " updated_by = EXCLUDED.updated_by, updated_at = now()")
                .params(target.modelId(), alias, target.id(), caller.name()).update();
        // Every move records the gates in force, a copy of the stored document (NULL: the model has none), whether it
        // passed them, was overridden past them or had none to pass: the history alone then says what was checked.
        jdbc.sql("INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_by, reason, overridden,"
                        + " gate_status, gate_reasons, gates_recorded, gates_in_force) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, true,"
                        + " (SELECT g.gates FROM model_gates g WHERE g.model_id = ?))")
                .params(target.modelId(), alias, from, version, caller.name(), reason, overridden,
                        overridden ? verdict.status().name() : null,
                        overridden ? verdict.reasons().toArray(new String[0]) : null, target.modelId())
                .update();
        events.publishEvent(new RegistryChanged(model));
        return get(model, alias);
    }

    /**
     * Deletes the alias; resolve then answers {@code alias-not-set} for it. The same role that may move an alias may
     * delete it (deleting ships nothing new, so no gates apply); the removal is appended to the history. This is the
     * way to withdraw a model's only published version, or to drop a misspelt alias that blocks a yank.
     */
    @Transactional
    public void delete(String model, String alias, String reason, Caller caller) {
        Models.requireReason(reason);
        // Serializes this with the model's other alias changes, so the query below sees the one before it committed.
        long modelId = lockModel(model);
        Integer from = jdbc.sql("SELECT v.version FROM alias a JOIN model_version v ON v.id = a.version_id"
                        + " WHERE a.model_id = ? AND a.name = ? FOR UPDATE OF a")
                .params(modelId, alias).query(Integer.class).optional()
                .orElseThrow(() -> aliasNotSet(model, alias, names(modelId)));
        jdbc.sql("DELETE FROM alias WHERE model_id = ? AND name = ?").params(modelId, alias).update();
        jdbc.sql("INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_by, reason)"
                        + " VALUES (?, ?, ?, NULL, ?, ?)")
                .params(modelId, alias, from, caller.name(), reason).update();
        events.publishEvent(new RegistryChanged(model));
    }

    /** The model's aliases and their current targets, by name. */
    public List<AliasView> list(String model) {
        long modelId = models.modelId(model);
        return jdbc.sql("SELECT a.name, v.version, a.updated_by, a.updated_at FROM alias a"
                        + " JOIN model_version v ON v.id = a.version_id WHERE a.model_id = ? ORDER BY a.name")
                .param(modelId)
                .query((rs, i) -> new AliasView(model, rs.getString(1), rs.getInt(2), rs.getString(3),
                        rs.getObject(4, OffsetDateTime.class)))
                .list();
    }

    public AliasView get(String model, String alias) {
        long modelId = models.modelId(model);
        return jdbc.sql("SELECT v.version, a.updated_by, a.updated_at FROM alias a JOIN model_version v ON v.id = a.version_id"
                        + " WHERE a.model_id = ? AND a.name = ?")
                .params(modelId, alias)
                .query((rs, i) -> new AliasView(model, alias, rs.getInt(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class)))
                .optional().orElseThrow(() -> aliasNotSet(model, alias, names(modelId)));
    }

    public List<String> names(long modelId) {
        return jdbc.sql("SELECT name FROM alias WHERE model_id = ? ORDER BY name").param(modelId).query(String.class).list();
    }

    public static ApiProblem aliasNotSet(String model, String alias, List<String> existing) {
        return ApiProblem.notFound("alias-not-set", "Alias not set",
                        "model '" + model + "' has no alias '" + alias + "'; "
                                + (existing.isEmpty() ? "it has no aliases yet — set one with PUT /api/v1/models/" + model + "/aliases/" + alias
                                : "its aliases are " + existing))
                .with("aliases", existing);
    }

    public List<HistoryEntry> history(String model, String alias) {
        long modelId = models.modelId(model);
        return jdbc.sql("SELECT alias, from_version, to_version, changed_by, reason, changed_at, overridden, gate_status,"
                        + " gate_reasons, gates_recorded, CAST(gates_in_force AS text) FROM alias_history"
                        + " WHERE model_id = ? AND alias = ? ORDER BY id")
                .params(modelId, alias)
                .query((rs, i) -> {
                    int f = rs.getInt(2);
                    Integer fromV = rs.wasNull() ? null : f;
                    int t = rs.getInt(3);
                    Integer toV = rs.wasNull() ? null : t;
                    java.sql.Array reasons = rs.getArray(9);
                    List<String> gateReasons = reasons == null ? List.of() : List.of((String[]) reasons.getArray());
                    String recorded = rs.getString(11);
                    GatesInForce inForce = !rs.getBoolean(10) ? null
                            : recorded == null ? GatesInForce.NONE : new GatesInForce(true, RECORDED.readTree(recorded));
                    return new HistoryEntry(rs.getString(1), fromV, toV, rs.getString(4), rs.getString(5),
                            rs.getObject(6, OffsetDateTime.class), rs.getBoolean(7), rs.getString(8), gateReasons,
                            inForce);
                })
                .list();
    }
}

package io.aneforge.registry.alias;

import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.model.ModelRecords.VersionRef;
import io.aneforge.registry.model.RegistryChanged;
import io.aneforge.registry.problem.ApiProblem;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Aliases (model + name -> version) and their append-only history. */
@Service
public class Aliases {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    public record AliasView(String model, String alias, int version, String updatedBy, OffsetDateTime updatedAt) {}

    public record HistoryEntry(String alias, Integer fromVersion, int toVersion, String changedBy, String reason,
                               OffsetDateTime changedAt) {}

    private final JdbcClient jdbc;
    private final Models models;
    private final ApplicationEventPublisher events;

    Aliases(JdbcClient jdbc, Models models, ApplicationEventPublisher events) {
        this.jdbc = jdbc;
        this.models = models;
        this.events = events;
    }

    @Transactional
    public AliasView move(String model, String alias, Integer version, String reason, Caller caller) {
        if (!NAME.matcher(alias).matches()) {
            throw ApiProblem.badRequest("invalid-alias-name", "Invalid alias name",
                    "alias '" + alias + "' must match " + NAME.pattern());
        }
        if (version == null) throw ApiProblem.badRequest("invalid-request", "Invalid request body", "field 'version' is required");
        Models.requireReason(reason);
        VersionRef target = models.lockVersion(model, version); // also serializes moves of this model's aliases
        if (!"published".equals(target.status())) {
            throw ApiProblem.conflict("version-not-published", "Version not published",
                    "version " + version + " of '" + model + "' is " + target.status()
                            + "; an alias can only point at a published version");
        }
        Integer from = jdbc.sql("SELECT v.version FROM alias a JOIN model_version v ON v.id = a.version_id"
                        + " WHERE a.model_id = ? AND a.name = ? FOR UPDATE OF a")
                .params(target.modelId(), alias).query(Integer.class).optional().orElse(null);
        if (from != null && from == version) return get(model, alias);
        jdbc.sql("INSERT INTO alias (model_id, name, version_id, updated_by) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (model_id, name) DO UPDATE SET version_id = EXCLUDED.version_id,"
                        + " updated_by = EXCLUDED.updated_by, updated_at = now()")
                .params(target.modelId(), alias, target.id(), caller.name()).update();
        jdbc.sql("INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_by, reason)"
                        + " VALUES (?, ?, ?, ?, ?, ?)")
                .params(target.modelId(), alias, from, version, caller.name(), reason).update();
        events.publishEvent(new RegistryChanged(model));
        return get(model, alias);
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
        return jdbc.sql("SELECT alias, from_version, to_version, changed_by, reason, changed_at FROM alias_history"
                        + " WHERE model_id = ? AND alias = ? ORDER BY id")
                .params(modelId, alias)
                .query((rs, i) -> {
                    int f = rs.getInt(2);
                    Integer fromV = rs.wasNull() ? null : f;
                    return new HistoryEntry(rs.getString(1), fromV, rs.getInt(3), rs.getString(4), rs.getString(5),
                            rs.getObject(6, OffsetDateTime.class));
                })
                .list();
    }
}

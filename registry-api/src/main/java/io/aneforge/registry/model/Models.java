package io.aneforge.registry.model;

import io.aneforge.hub.HubCache;
import io.aneforge.names.RegistryNames;
import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.model.ModelRecords.ModelView;
import io.aneforge.registry.model.ModelRecords.SourceView;
import io.aneforge.registry.model.ModelRecords.VersionRef;
import io.aneforge.registry.model.ModelRecords.VersionView;
import io.aneforge.registry.problem.ApiProblem;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Models and their versions. Version numbers come from a row-locked counter on the model. */
@Service
public class Models {

    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final JdbcClient jdbc;
    private final ApplicationEventPublisher events;
    private final SourceProperties sources;
    private final Audit audit;

    Models(JdbcClient jdbc, ApplicationEventPublisher events, SourceProperties sources, Audit audit) {
        this.jdbc = jdbc;
        this.events = events;
        this.sources = sources;
        this.audit = audit;
    }

    public ModelView create(String name, String task, String description, String owner) {
        if (!RegistryNames.isModel(name)) {
            throw ApiProblem.badRequest("invalid-model-name", "Invalid model name",
                    "model name '" + name + "' must match " + RegistryNames.MODEL.pattern() + " (lowercase letters, digits, . _ -)");
        }
        try {
            // a new model has no aliases yet: the two alias columns are empty arrays
            return jdbc.sql("INSERT INTO model (name, task, description, owner) VALUES (?, ?, ?, ?)"
                            + " RETURNING name, task, description, owner, created_at, '{}'::text[], '{}'::int[]")
                    .params(name, task, description == null ? "" : description, owner)
                    .query(Models::model).single();
        } catch (DuplicateKeyException e) {
            throw ApiProblem.conflict("model-exists", "Model exists", "a model named '" + name + "' already exists");
        }
    }

    /**
     * A model's columns and its aliases as two arrays in the same order (alias names, the versions they point at):
     * one statement, and the alias primary key (model_id, name) serves both sub-selects.
     */
    private static final String MODEL_SELECT = "SELECT m.name, m.task, m.description, m.owner, m.created_at,"
            + " ARRAY(SELECT a.name FROM alias a WHERE a.model_id = m.id ORDER BY a.name),"
            + " ARRAY(SELECT av.version FROM alias a JOIN model_version av ON av.id = a.version_id"
            + " WHERE a.model_id = m.id ORDER BY a.name)"
            + " FROM model m";

    public List<ModelView> list() {
        return jdbc.sql(MODEL_SELECT + " ORDER BY m.name").query(Models::model).list();
    }

    public ModelView get(String name) {
        return jdbc.sql(MODEL_SELECT + " WHERE m.name = ?").param(name)
                .query(Models::model).optional().orElseThrow(() -> modelNotFound(name));
    }

    public long modelId(String name) {
        return jdbc.sql("SELECT id FROM model WHERE name = ?").param(name).query(Long.class).optional()
                .orElseThrow(() -> modelNotFound(name));
    }

    public static ApiProblem modelNotFound(String name) {
        return ApiProblem.notFound("model-not-found", "Model not found",
                "no model named '" + name + "'; list models with GET /api/v1/models");
    }

    /** Source of a new version: hub (repo + revision), local (a Hub snapshot directory the workers read) or upload. */
    public record Source(String type, String repo, String revision, String path) {}

    @Transactional
    public VersionView createVersion(String model, Source source, Caller caller) {
        String type = source == null ? null : source.type();
        String repo = null, revision = null, commit = null, path = null;
        if ("hub".equals(type)) {
            repo = source.repo();
            revision = source.revision() == null || source.revision().isBlank() ? "main" : source.revision();
            // The Hub client's own rules (ane-core), so that a version the worker could never fetch (a revision
            // like "/etc/x" or "a..b", a repo id with "--") is refused here rather than stored and failed later.
            String repoProblem = HubCache.repoIdProblem(repo);
            if (repoProblem != null) {
                throw ApiProblem.badRequest("invalid-source", "Invalid source", "source.repo: " + repoProblem);
            }
            String revisionProblem = HubCache.revisionProblem(revision);
            if (revisionProblem != null) {
                throw ApiProblem.badRequest("invalid-source", "Invalid source", "source.revision: " + revisionProblem);
            }
            if (COMMIT.matcher(revision).matches()) commit = revision; // already pinned
        } else if ("local".equals(type)) {
            path = localPath(source.path());
        } else if (!"upload".equals(type)) {
            throw ApiProblem.badRequest("invalid-source", "Invalid source",
                    "source.type must be 'hub' (with repo and revision), 'local' (with path) or 'upload', got '" + type + "'");
        }
        // The row lock taken by this UPDATE serializes concurrent creators: dense, distinct numbers.
        record Next(long id, int version) {}
        Next next = jdbc.sql("UPDATE model SET last_version = last_version + 1 WHERE name = ? RETURNING id, last_version")
                .param(model).query((rs, i) -> new Next(rs.getLong(1), rs.getInt(2))).optional()
                .orElseThrow(() -> modelNotFound(model));
        jdbc.sql("INSERT INTO model_version (model_id, version, source_type, hub_repo, hub_revision, hub_commit, local_path,"
                        + " status, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?)")
                .params(next.id(), next.version(), type, repo, revision, commit, path, caller.name()).update();
        return version(model, next.version());
    }

    /**
     * A local source's path, normalized, if it lies under one of {@link SourceProperties#localRoots}. Checked
     * lexically: the path is on the workers' machines, not the registry's, so symbolic links are theirs to resolve
     * (the worker's LocalSourceRoots checks the real paths against the same setting).
     */
    private String localPath(String path) {
        String problem = path == null || path.isBlank() ? "is empty" : io.aneforge.source.LocalRoots.pathProblem(path);
        if (problem != null) {
            throw ApiProblem.badRequest("invalid-source", "Invalid source", "source.path '" + path + "' " + problem
                    + ": it must be the absolute path of a Hub snapshot directory the workers can read");
        }
        java.nio.file.Path normalized = java.nio.file.Path.of(path).normalize();
        if (sources.rootOf(normalized) == null) {
            throw ApiProblem.badRequest("local-source-not-allowed", "Local source not allowed", sources.localRoots().isEmpty()
                    ? "local sources are off on this registry: its operator allows them by listing the directories they"
                    + " may come from in " + SourceProperties.SETTING + "; or publish from the Hub (source.type 'hub')"
                    : "source.path '" + path + "' is not under a directory this registry allows local sources from ("
                    + String.join(", ", sources.localRoots()) + ", set by " + SourceProperties.SETTING + ")")
                    .with("setting", "aneforge.sources.local-roots");
        }
        return normalized.toString();
    }

    private static final String VERSION_SELECT = "SELECT m.name, v.version, v.source_type, v.hub_repo, v.hub_revision,"
            + " v.hub_commit, v.status, v.created_by, v.created_at, v.published_at, v.yanked_at, v.yank_reason, v.local_path,"
            + " v.published_without_golden_by, v.published_without_golden_reason,"
            // model_id first: the alias primary key (model_id, name) finds the model's few aliases
            + " ARRAY(SELECT a.name FROM alias a WHERE a.model_id = v.model_id AND a.version_id = v.id ORDER BY a.name)"
            + " FROM model_version v JOIN model m ON m.id = v.model_id";

    public VersionView version(String model, int version) {
        return jdbc.sql(VERSION_SELECT + " WHERE m.name = ? AND v.version = ?").params(model, version)
                .query(Models::version).optional().orElseThrow(() -> missing(model, version));
    }

    public List<VersionView> versions(String model) {
        modelId(model);
        return jdbc.sql(VERSION_SELECT + " WHERE m.name = ? ORDER BY v.version").param(model).query(Models::version).list();
    }

    /** Locks the version row for the rest of the transaction. */
    public VersionRef lockVersion(String model, int version) {
        return jdbc.sql("SELECT v.id, v.model_id, m.name, v.version, v.status FROM model_version v JOIN model m ON m.id = v.model_id"
                        + " WHERE m.name = ? AND v.version = ? FOR UPDATE OF v")
                .params(model, version)
                .query((rs, i) -> new VersionRef(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getInt(4), rs.getString(5)))
                .optional().orElseThrow(() -> missing(model, version));
    }

    /**
     * Whether the version has both golden blobs (inputs and FP32 outputs), which its accuracy and benchmark jobs run:
     * publishing checks it, and a variant's jobs are queued ready or waiting by it.
     */
    public boolean hasGoldenData(long versionId) {
        return jdbc.sql("SELECT golden_digest IS NOT NULL AND golden_inputs_digest IS NOT NULL FROM model_version"
                + " WHERE id = ?").param(versionId).query(Boolean.class).single();
    }

    /**
     * The format version of the version's golden blobs ({@code GoldenOutputsCodec}, read when they were set), 1 when
     * it has none yet: what its jobs carry, so that they are leased only to agents that read it.
     */
    public int goldenFormat(long versionId) {
        return golden(versionId).format();
    }

    /**
     * What a version's new jobs need to know of its golden data, in one query (a variant's registration queues five
     * jobs with it): {@code stored} as {@link #hasGoldenData}, {@code format} as {@link #goldenFormat}.
     */
    public record GoldenData(boolean stored, int format) {}

    public GoldenData golden(long versionId) {
        return jdbc.sql("SELECT golden_digest IS NOT NULL AND golden_inputs_digest IS NOT NULL, COALESCE(golden_format, 1)"
                        + " FROM model_version WHERE id = ?").param(versionId)
                .query((rs, i) -> new GoldenData(rs.getBoolean(1), rs.getInt(2))).single();
    }

    /** model-not-found when the model itself is missing (that is what the client got wrong), else version-not-found. */
    private ApiProblem missing(String model, int version) {
        modelId(model);
        return versionNotFound(model, version);
    }

    static ApiProblem versionNotFound(String model, int version) {
        return ApiProblem.notFound("version-not-found", "Version not found",
                "model '" + model + "' has no version " + version);
    }

    /**
     * The publisher's explicit choice to publish a version without golden data: who and why, kept on the version.
     * Accuracy is then not checked (and nothing is benchmarked: benchmarks run the golden inputs too).
     */
    public record WithoutGoldenData(String by, String reason) {}

    /**
     * Freezes a draft. A draft without golden data is refused (409 {@code golden-data-missing}): its accuracy and
     * benchmark jobs could never run, and golden data can only be set on a draft. {@code withoutGoldenData} (null
     * for none) publishes it anyway: the choice is recorded and the version's jobs are cancelled with its reason
     * ({@link VersionPublishedWithoutGoldenData}).
     *
     * <p>The one place a version is published, so the one place its {@code version.publish} is audited, in this
     * transaction: by the endpoint (a publisher, or a worker without the opt-out) and by a completed conversion (the
     * worker holding its lease; {@code conversion} its id, else null).
     */
    @Transactional
    public VersionView publish(String model, int version, WithoutGoldenData withoutGoldenData, Caller by, Long conversion) {
        if (withoutGoldenData != null && !RegistryNames.isReason(withoutGoldenData.reason())) {
            throw ApiProblem.badRequest("reason-required", "Reason required",
                    "\"withoutGoldenData\": true needs a non-blank \"reason\" (why this version ships with its accuracy"
                            + " not checked); it is kept on the version");
        }
        VersionRef v = lockVersion(model, version);
        if (!"draft".equals(v.status())) {
            throw ApiProblem.conflict("version-immutable", "Version is immutable",
                    "version " + version + " of '" + model + "' is " + v.status() + "; only a draft can be published");
        }
        Long converting = jdbc.sql("SELECT id FROM conversion WHERE version_id = ? AND state IN ('queued', 'running')")
                .param(v.id()).query(Long.class).optional().orElse(null);
        if (converting != null) {
            throw ApiProblem.conflict("version-converting", "Version is being converted",
                    "version " + version + " of '" + model + "' is being converted (GET /api/v1/conversions/" + converting
                            + "); it is published when the conversion completes");
        }
        long variants = jdbc.sql("SELECT count(*) FROM variant WHERE version_id = ? AND status = 'available'")
                .param(v.id()).query(Long.class).single();
        if (variants == 0) {
            throw ApiProblem.conflict("version-has-no-variants", "Version has no variants",
                    "register at least one variant with POST /api/v1/models/" + model + "/versions/" + version
                            + "/variants before publishing");
        }
        boolean golden = hasGoldenData(v.id());
        String at = "/api/v1/models/" + model + "/versions/" + version;
        if (!golden && withoutGoldenData == null) {
            throw ApiProblem.conflict("golden-data-missing", "Golden data missing",
                    "version " + version + " of '" + model + "' has no golden data (the inputs and FP32 outputs its"
                            + " accuracy and benchmark jobs run), and a published version can no longer take it: store"
                            + " it first with PUT " + at + "/golden {\"inputs\": \"sha256:…\", \"outputs\": \"sha256:…\"}"
                            + " (blobs uploaded with PUT /api/v1/blobs/sha256:…), or publish the output of ./aneforge"
                            + " convert with ./aneforge publish --dir, which carries it. To publish without it (accuracy"
                            + " not checked), send {\"withoutGoldenData\": true, \"reason\": \"…\"}")
                    .with("golden", at + "/golden");
        }
        if (golden && withoutGoldenData != null) {
            throw ApiProblem.conflict("golden-data-present", "Golden data present",
                    "version " + version + " of '" + model + "' has golden data, so its accuracy is checked: publish"
                            + " it without \"withoutGoldenData\"");
        }
        // A draft's published_without_golden_* are null, so writing null there for a version with golden data is no change.
        jdbc.sql("UPDATE model_version SET status = 'published', published_at = now(), published_without_golden_by = ?,"
                        + " published_without_golden_reason = ? WHERE id = ?")
                .params(withoutGoldenData == null ? null : withoutGoldenData.by(),
                        withoutGoldenData == null ? null : withoutGoldenData.reason(), v.id())
                .update();
        if (withoutGoldenData != null) {
            events.publishEvent(new VersionPublishedWithoutGoldenData(v.id(), model, version, withoutGoldenData));
        }
        events.publishEvent(new RegistryChanged(model));
        Audit.Event published = Audit.Event.of("version.publish").onVersion(model, version);
        if (conversion != null) published = published.with("conversion", conversion);
        if (withoutGoldenData != null) {
            published = published.with("withoutGoldenData", true).with("reason", withoutGoldenData.reason());
        }
        audit.record(by, published);
        return version(model, version);
    }

    /** @return the version, and whether this call yanked it (false: it was yanked already, nothing changed) */
    @Transactional
    public Audit.Outcome<VersionView> yank(String model, int version, String reason) {
        requireReason(reason);
        VersionRef v = lockVersion(model, version);
        if ("yanked".equals(v.status())) return new Audit.Outcome<>(version(model, version), false);
        List<String> aliases = jdbc.sql("SELECT name FROM alias WHERE version_id = ? ORDER BY name").param(v.id())
                .query(String.class).list();
        if (!aliases.isEmpty()) {
            throw ApiProblem.conflict("version-aliased", "Version is aliased",
                    "version " + version + " of '" + model + "' is the target of alias(es) " + aliases
                            + "; move them to another version (PUT /api/v1/models/" + model + "/aliases/{alias})"
                            + " or delete them (DELETE /api/v1/models/" + model + "/aliases/{alias} with"
                            + " {\"reason\": ...}; resolve then answers alias-not-set) first").with("aliases", aliases);
        }
        jdbc.sql("UPDATE model_version SET status = 'yanked', yanked_at = now(), yank_reason = ? WHERE id = ?")
                .params(reason, v.id()).update();
        events.publishEvent(new VersionYanked(v.id(), model, version, reason));
        events.publishEvent(new RegistryChanged(model));
        return new Audit.Outcome<>(version(model, version), true);
    }

    public static void requireReason(String reason) {
        if (!RegistryNames.isReason(reason)) {
            throw ApiProblem.badRequest("reason-required", "Reason required", "field 'reason' is required and must not be blank");
        }
    }

    private static ModelView model(ResultSet rs, int i) throws SQLException {
        String[] names = (String[]) rs.getArray(6).getArray();
        Integer[] versions = (Integer[]) rs.getArray(7).getArray();
        Map<String, Integer> aliases = new LinkedHashMap<>();
        for (int a = 0; a < names.length; a++) aliases.put(names[a], versions[a]);
        return new ModelView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getObject(5, OffsetDateTime.class), aliases);
    }

    private static VersionView version(ResultSet rs, int i) throws SQLException {
        String type = rs.getString(3);
        SourceView src = new SourceView(type, rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(13));
        return new VersionView(rs.getString(1), rs.getInt(2), src, rs.getString(7), rs.getString(8),
                rs.getObject(9, OffsetDateTime.class), rs.getObject(10, OffsetDateTime.class),
                rs.getObject(11, OffsetDateTime.class), rs.getString(12),
                rs.getString(14) == null ? null : new WithoutGoldenData(rs.getString(14), rs.getString(15)),
                List.of((String[]) rs.getArray(16).getArray()));
    }
}

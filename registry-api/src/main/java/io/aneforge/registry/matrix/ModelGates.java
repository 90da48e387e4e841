package io.aneforge.registry.matrix;

import io.aneforge.chips.ChipCatalog;
import io.aneforge.gate.Gates;
import io.aneforge.gate.InvalidGatesException;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.model.RegistryChanged;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.variant.PrecisionSelector;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The release gates of each model (table {@code model_gates}); a model without a row has no gates. */
@Service
public class ModelGates {

    /**
     * @param set false when the model has no gates (then {@code gates} is {@link Gates#NONE} and every variant passes)
     */
    public record GatesView(String model, Gates gates, boolean set, String updatedBy, OffsetDateTime updatedAt) {}

    /**
     * One change of a model's gates, as {@code GET /models/{name}/gates/history} lists it.
     *
     * @param before   the gates before the change; null when the model had none
     * @param loosened the limits the change removed or relaxed (empty for a first set or a tightening)
     */
    public record GatesChange(Gates before, Gates after, List<String> loosened, String changedBy, OffsetDateTime changedAt) {}

    /** Strict reading of PUT bodies: a misspelt field is an error, not a silently missing gate. */
    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    /**
     * Lenient reading and the writing of stored gates: the rows are shared with the release before and the release
     * after this one (a rolling update, a rollback; docs/deploy.md), so a field one of them added must not make the
     * other fail every read of the model's gates. The body's strictness already kept misspellings out of the rows.
     */
    private static final JsonMapper STORED = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private final JdbcClient jdbc;
    private final Models models;
    private final ChipCatalog chips;
    private final ApplicationEventPublisher events;

    ModelGates(JdbcClient jdbc, Models models, ChipCatalog chips, ApplicationEventPublisher events) {
        this.jdbc = jdbc;
        this.models = models;
        this.chips = chips;
        this.events = events;
    }

    public GatesView get(String model) {
        long id = models.modelId(model);
        return jdbc.sql("SELECT CAST(gates AS text), updated_by, updated_at FROM model_gates WHERE model_id = ?").param(id)
                .query((rs, i) -> new GatesView(model, parseStored(rs.getString(1)), true, rs.getString(2),
                        rs.getObject(3, OffsetDateTime.class)))
                .optional().orElse(new GatesView(model, Gates.NONE, false, null, null));
    }

    /** The gates of a model, or empty when it has none. */
    Optional<Gates> gatesOf(long modelId) {
        return jdbc.sql("SELECT CAST(gates AS text) FROM model_gates WHERE model_id = ?").param(modelId)
                .query(String.class).optional().map(ModelGates::parseStored);
    }

    /**
     * Replaces the gates of a model with {@code body} (the JSON of {@link Gates}); 400 names the bad field.
     * Setting gates for the first time or tightening them is open to publishers; removing or relaxing any limit
     * needs an admin, the authority of a gate override, since otherwise "clear the gates, promote, put them back"
     * would be an override without the admin or the record. Every change is appended to the gate history.
     */
    @Transactional
    public GatesView put(String model, String body, Caller caller) {
        long id = models.modelId(model);
        Gates gates = parse(body);
        for (String chip : gates.maxP50Ms().keySet()) {
            if (chips.chip(chip).isEmpty()) {
                throw invalid("gates.maxP50Ms: chip '" + chip + "' is not in the catalog; known chips: "
                        + chips.chips().stream().map(c -> c.id()).toList());
            }
        }
        // Orders concurrent changes of one model's gates, so each history row's "before" is what it replaced, and orders
        // them against alias moves, which hold the same lock from before their verdict to their commit (Aliases), so a
        // move records the gates it was checked against. NO KEY UPDATE: rows referencing the model (versions, aliases)
        // may still be inserted meanwhile.
        jdbc.sql("SELECT id FROM model WHERE id = ? FOR NO KEY UPDATE").param(id).query(Long.class).single();
        Optional<Gates> before = gatesOf(id);
        List<String> loosened = before.map(b -> loosened(b, gates)).orElse(List.of());
        if (!loosened.isEmpty() && caller.role() != Role.ADMIN) {
            throw new ApiProblem(HttpStatus.FORBIDDEN, "gates-loosening-needs-admin", "Loosening gates needs an admin",
                    "removing or relaxing release gates needs an admin, like a gate override (" + String.join("; ", loosened)
                            + "); role '" + caller.role().wireName() + "' may set gates for the first time or tighten"
                            + " them. Ask an admin to change them, or to move the alias with \"override\": true")
                    .with("loosened", loosened);
        }
        jdbc.sql("INSERT INTO model_gates_history (model_id, gates_before, gates_after, loosened, changed_by)"
                        + " VALUES (?, CAST(? AS jsonb), CAST(? AS jsonb), ?, ?)")
                .params(id, before.map(ModelGates::storedJson).orElse(null), storedJson(gates),
                        loosened.toArray(new String[0]), caller.name())
                .update();
        jdbc.sql("INSERT INTO model_gates (model_id, gates, updated_by) VALUES (?, CAST(? AS jsonb), ?)"
                        + " ON CONFLICT (model_id) DO UPDATE SET gates = EXCLUDED.gates, updated_by = EXCLUDED.updated_by,"
                        + " updated_at = now()")
                .params(id, storedJson(gates), caller.name()).update();
        events.publishEvent(new RegistryChanged(model));
        return get(model);
    }

    /** The gate changes of a model, oldest first. */
    public List<GatesChange> history(String model) {
        long id = models.modelId(model);
        return jdbc.sql("SELECT CAST(gates_before AS text), CAST(gates_after AS text), loosened, changed_by, changed_at"
                        + " FROM model_gates_history WHERE model_id = ? ORDER BY id")
                .param(id)
                .query((rs, i) -> {
                    String b = rs.getString(1);
                    return new GatesChange(b == null ? null : parseStored(b), parseStored(rs.getString(2)),
                            List.of((String[]) rs.getArray(3).getArray()), rs.getString(4),
                            rs.getObject(5, OffsetDateTime.class));
                })
                .list();
    }

    /**
     * What {@code after} removes or relaxes compared to {@code before}, one phrase per limit
     * ("minCosine 0.999 -> none", "minCosineByPrecision.w8a8-affine 0.99 -> 0.95"); empty when every limit of
     * {@code before} still holds at least as strictly.
     */
    static List<String> loosened(Gates before, Gates after) {
        List<String> out = new ArrayList<>();
        if (before.minCosine() != null && (after.minCosine() == null || after.minCosine() < before.minCosine())) {
            out.add("minCosine " + before.minCosine() + " -> " + orNone(after.minCosine()));
        }
        if (before.maxArtifactBytes() != null
                && (after.maxArtifactBytes() == null || after.maxArtifactBytes() > before.maxArtifactBytes())) {
            out.add("maxArtifactBytes " + before.maxArtifactBytes() + " -> " + orNone(after.maxArtifactBytes()));
        }
        if (before.maxP50MsDefault() != null
                && (after.maxP50MsDefault() == null || after.maxP50MsDefault() > before.maxP50MsDefault())) {
            out.add("maxP50MsDefault " + before.maxP50MsDefault() + " -> " + orNone(after.maxP50MsDefault()));
        }
        // Per precision, the cosine limit that actually applies (its own entry, else its family's, else minCosine) must
        // not drop or vanish: adding {"w8a8-affine": 0.95} under minCosine 0.99 relaxes those variants' limit.
        TreeSet<String> precisions = new TreeSet<>(before.minCosineByPrecision().keySet());
        precisions.addAll(after.minCosineByPrecision().keySet());
        for (String name : precisions) {
            // a family key stands for the family's precisions without an entry of their own
            PrecisionSelector p = PrecisionSelector.parse(name);
            Double was = before.cosineLimit(p), now = after.cosineLimit(p);
            if (was != null && (now == null || now < was)) {
                out.add("minCosineByPrecision." + name + " " + was + " -> " + orNone(now));
            }
        }
        // Per chip, the limit that actually applies (its own entry, else the default) must not rise or vanish.
        TreeSet<String> chipIds = new TreeSet<>(before.maxP50Ms().keySet());
        chipIds.addAll(after.maxP50Ms().keySet());
        for (String chip : chipIds) {
            Double was = before.latencyLimitMs(chip), now = after.latencyLimitMs(chip);
            if (was != null && (now == null || now > was)) out.add("maxP50Ms." + chip + " " + was + " -> " + orNone(now));
        }
        return out;
    }

    private static String orNone(Object limit) {
        return limit == null ? "none" : limit.toString();
    }

    static Gates parse(String body) {
        if (body == null || body.isBlank()) {
            throw invalid("the body must be the gates as JSON, e.g. {\"minCosine\":0.999,\"minCosineByPrecision\":"
                    + "{\"w8a8-affine\":0.95},\"maxP50Ms\":{\"A17_PRO\":3.0},\"maxArtifactBytes\":50000000,"
                    + "\"maxP50MsDefault\":8.0} (every field optional)");
        }
        try {
            Gates g = STRICT.readValue(body, Gates.class);
            if (g == null) throw invalid("the body must be a JSON object, got null");
            return g;
        } catch (JacksonException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof InvalidGatesException bad) throw invalid(bad.getMessage());
            }
            throw invalid("the body is not valid gates JSON: " + e.getOriginalMessage()
                    + "; fields are minCosine, minCosineByPrecision (precision -> cosine), maxP50Ms (chip -> ms),"
                    + " maxArtifactBytes, maxP50MsDefault");
        } catch (InvalidGatesException e) {
            throw invalid(e.getMessage());
        }
    }

    /**
     * The JSON stored for {@code gates}: without {@code minCosineByPrecision} when it is empty, so gates that set no
     * per-precision limit stay readable by the release before it (expand, then contract). Gates that set one are not
     * readable there; docs/deploy.md says so.
     */
    static String storedJson(Gates gates) {
        ObjectNode json = STORED.valueToTree(gates);
        if (gates.minCosineByPrecision().isEmpty()) json.remove("minCosineByPrecision");
        return STORED.writeValueAsString(json);
    }

    /**
     * Stored gates (of {@code model_gates} or its history), read leniently: a field a later release adds is ignored.
     * An alias move's record of the gates is not read through here but shown as stored (Aliases.GatesInForce).
     */
    private static Gates parseStored(String json) {
        try {
            return STORED.readValue(json, Gates.class);
        } catch (JacksonException | InvalidGatesException e) {
            throw new IllegalStateException("stored gates are unreadable: " + json, e);
        }
    }

    private static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("invalid-gates", "Invalid gates", detail);
    }
}

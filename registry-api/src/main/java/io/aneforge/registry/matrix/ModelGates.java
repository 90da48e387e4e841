package io.aneforge.registry.matrix;

import io.aneforge.chips.ChipCatalog;
import io.aneforge.gate.Gates;
import io.aneforge.gate.InvalidGatesException;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.model.RegistryChanged;
import io.aneforge.registry.problem.ApiProblem;
import java.time.OffsetDateTime;
import java.util.Optional;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** The release gates of each model (table {@code model_gates}); a model without a row has no gates. */
@Service
public class ModelGates {

    /**
     * @param set false when the model has no gates (then {@code gates} is {@link Gates#NONE} and every variant passes)
     */
    public record GatesView(String model, Gates gates, boolean set, String updatedBy, OffsetDateTime updatedAt) {}

    /** Strict reading: a misspelt field is an error, not a silently missing gate. */
    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

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

    /** Replaces the gates of a model with {@code body} (the JSON of {@link Gates}); 400 names the bad field. */
    public GatesView put(String model, String body, Caller caller) {
        long id = models.modelId(model);
        Gates gates = parse(body);
        for (String chip : gates.maxP50Ms().keySet()) {
            if (chips.chip(chip).isEmpty()) {
                throw invalid("gates.maxP50Ms: chip '" + chip + "' is not in the catalog; known chips: "
                        + chips.chips().stream().map(c -> c.id()).toList());
            }
        }
        jdbc.sql("INSERT INTO model_gates (model_id, gates, updated_by) VALUES (?, CAST(? AS jsonb), ?)"
                        + " ON CONFLICT (model_id) DO UPDATE SET gates = EXCLUDED.gates, updated_by = EXCLUDED.updated_by,"
                        + " updated_at = now()")
                .params(id, STRICT.writeValueAsString(gates), caller.name()).update();
        events.publishEvent(new RegistryChanged(model));
        return get(model);
    }

    static Gates parse(String body) {
        if (body == null || body.isBlank()) {
            throw invalid("the body must be the gates as JSON, e.g. {\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0},"
                    + "\"maxArtifactBytes\":50000000,\"maxP50MsDefault\":8.0} (every field optional)");
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
                    + "; fields are minCosine, maxP50Ms (chip -> ms), maxArtifactBytes, maxP50MsDefault");
        } catch (InvalidGatesException e) {
            throw invalid(e.getMessage());
        }
    }

    private static Gates parseStored(String json) {
        try {
            return STRICT.readValue(json, Gates.class);
        } catch (JacksonException | InvalidGatesException e) {
            throw new IllegalStateException("stored gates are unreadable: " + json, e);
        }
    }

    private static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("invalid-gates", "Invalid gates", detail);
    }
}

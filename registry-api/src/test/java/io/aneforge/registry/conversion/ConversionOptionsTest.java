package io.aneforge.registry.conversion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryTestBase;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A conversion's {@code head} and {@code tokenTypes} ({@code convert --head}, {@code --token-types} for the workers,
 * V30): stored and shown on the conversion, defaults unchanged, bad values refused before a version exists; leased
 * only to a worker that declares it acts on them ({@code conversionOptions}).
 */
class ConversionOptionsTest extends RegistryTestBase {

    @Autowired
    ConversionRepository conversions;

    @Autowired
    PlatformTransactionManager transactions;

    @Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    @Test
    void aConversionWithAHeadOrTokenTypesGoesOnlyToAWorkerThatDeclaresItActsOnThem() {
        createModel("conv-options-gate");
        Map<String, Object> body = new LinkedHashMap<>(Map.of("source", SOURCE, "chips", List.of("M2"), "head", "none"));
        Response created = send("POST", "/api/v1/models/conv-options-gate/versions", publisher(), body);
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        var c = get("/api/v1/models/conv-options-gate/versions/" + created.json().path("version").asInt()
                + "/conversion", reader()).json();
        long id = c.path("id").asLong();
        // which message depends on the workers other tests' contexts left running in the shared database: every
        // message for a conversion with options names them, either the requirement or the capable workers
        assertThat(c.path("waitingFor").asString()).containsAnyOf("acts on head and tokenTypes", "capable");
        body.remove("head");
        body.put("tokenTypes", true);
        Response typed = send("POST", "/api/v1/models/conv-options-gate/versions", publisher(), body);
        assertThat(typed.status()).as(typed.text()).isEqualTo(201);
        long typedId = get("/api/v1/models/conv-options-gate/versions/" + typed.json().path("version").asInt()
                + "/conversion", reader()).json().path("id").asLong();
        try {
            // the queue, as a worker of each kind would take it: every leasable row, locked in turn, then rolled back
            assertThat(leasable(0)).as("an older worker (no conversionOptions)").doesNotContain(id, typedId);
            assertThat(leasable(1)).contains(id, typedId);

            String worker = token("worker");
            Response old = send("POST", "/api/v1/conversions/" + id + "/lease", worker, Map.of("worker", "w-old"));
            assertThat(old.status()).as(old.text()).isEqualTo(409);
            assertThat(old.problem()).isEqualTo("conversion-not-leasable");
            assertThat(old.json().path("detail").asString()).contains("head 'none'").contains("conversionOptions 1")
                    .contains("Upgrade the converter worker");
            Response current = send("POST", "/api/v1/conversions/" + id + "/lease", worker,
                    Map.of("worker", "w-new", "conversionOptions", 1));
            assertThat(current.status()).as(current.text()).isEqualTo(200);
            assertThat(current.json().path("conversion").path("waitingFor").isNull()).as("running: waits for nothing")
                    .isTrue();
        } finally {
            for (long cancel : List.of(id, typedId)) {
                assertThat(send("POST", "/api/v1/conversions/" + cancel + "/cancel", publisher(), null).status())
                        .isEqualTo(200);
            }
        }
    }

    /**
     * {@code head} pre-training (V31 widens V30's check constraint): stored, and leased only to a worker that knows it
     * ({@code conversionOptions} 2); a worker declaring 1 acts on the other heads but would fail on this one.
     */
    @Test
    void thePreTrainingHeadGoesOnlyToAWorkerThatKnowsIt() {
        assertThat(Conversions.PRE_TRAINING_HEAD).isEqualTo(io.aneforge.model.TaskHead.Kind.PRE_TRAINING.id());
        createModel("conv-options-pre");
        Map<String, Object> body = new LinkedHashMap<>(Map.of("source", SOURCE, "chips", List.of("M2"), "head",
                "pre-training"));
        Response created = send("POST", "/api/v1/models/conv-options-pre/versions", publisher(), body);
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        var c = get("/api/v1/models/conv-options-pre/versions/" + created.json().path("version").asInt()
                + "/conversion", reader()).json();
        long id = c.path("id").asLong();
        assertThat(c.path("head").asString()).isEqualTo("pre-training");
        assertThat(jdbc.sql("SELECT head FROM conversion WHERE id = ?").param(id).query(String.class).single())
                .isEqualTo("pre-training");
        assertThat(c.path("waitingFor").asString()).contains("knows the pre-training head")
                .contains("conversionOptions 2");
        body.put("head", "fill-mask");
        Response other = send("POST", "/api/v1/models/conv-options-pre/versions", publisher(), body);
        assertThat(other.status()).as(other.text()).isEqualTo(201);
        long otherId = get("/api/v1/models/conv-options-pre/versions/" + other.json().path("version").asInt()
                + "/conversion", reader()).json().path("id").asLong();
        try {
            assertThat(leasable(0)).doesNotContain(id, otherId);
            assertThat(leasable(1)).contains(otherId).doesNotContain(id);
            assertThat(leasable(2)).contains(id, otherId);
            String worker = token("worker");
            Response one = send("POST", "/api/v1/conversions/" + id + "/lease", worker,
                    Map.of("worker", "w-one", "conversionOptions", 1));
            assertThat(one.status()).as(one.text()).isEqualTo(409);
            assertThat(one.json().path("detail").asString()).contains("head 'pre-training'")
                    .contains("conversionOptions 2").contains("refuse the head it does not know");
            Response two = send("POST", "/api/v1/conversions/" + id + "/lease", worker,
                    Map.of("worker", "w-two", "conversionOptions", 2));
            assertThat(two.status()).as(two.text()).isEqualTo(200);
        } finally {
            for (long cancel : List.of(id, otherId)) {
                assertThat(send("POST", "/api/v1/conversions/" + cancel + "/cancel", publisher(), null).status())
                        .isEqualTo(200);
            }
        }
        // the column still refuses what no release converts (V31 replaced the constraint, did not drop it)
        assertThatThrownBy(() -> jdbc.sql("UPDATE conversion SET head = 'next-sentence' WHERE id = ?").param(id)
                .update()).hasMessageContaining("conversion_head_check");
    }

    private List<Long> leasable(int options) {
        List<Long> ids = new ArrayList<>();
        new TransactionTemplate(transactions).executeWithoutResult(tx -> {
            // a transaction's own locks do not make SKIP LOCKED skip a row: each found one is set aside (undone below)
            for (var next = conversions.lockNextLeasable(options); next.isPresent();
                 next = conversions.lockNextLeasable(options)) {
                ids.add(next.get().id);
                jdbc.sql("UPDATE conversion SET state = 'cancelled' WHERE id = ?").param(next.get().id).update();
            }
            tx.setRollbackOnly();
        });
        return ids;
    }

    private static final Map<String, Object> SOURCE = Map.of("type", "hub", "repo", "sentence-transformers/all-MiniLM-L6-v2");

    @Test
    void headAndTokenTypesAreStoredWithTheConversionAndDefaultToTheHeadWithoutTokenTypes() {
        createModel("conv-options");
        Map<String, Object> body = new LinkedHashMap<>(Map.of("source", SOURCE, "chips", List.of("M2")));
        Map<String, Object> withOptions = new LinkedHashMap<>(body);
        withOptions.put("head", "none");
        withOptions.put("tokenTypes", true);
        var options = conversion(send("POST", "/api/v1/models/conv-options/versions", publisher(), withOptions));
        assertThat(options.path("head").asString()).isEqualTo("none");
        assertThat(options.path("tokenTypes").asBoolean()).isTrue();
        Map<String, Object> withKind = new LinkedHashMap<>(body);
        withKind.put("head", "token-classification");
        assertThat(conversion(send("POST", "/api/v1/models/conv-options/versions", publisher(), withKind)).path("head")
                .asString()).isEqualTo("token-classification");
        var defaults = conversion(send("POST", "/api/v1/models/conv-options/versions", publisher(), body));
        assertThat(defaults.path("head").asString()).isEqualTo("convert");
        assertThat(defaults.path("tokenTypes").isBoolean()).isTrue();
        assertThat(defaults.path("tokenTypes").asBoolean()).isFalse();
    }

    @Test
    void aBadHeadOrOptionsWithoutChipsAreRefusedBeforeAVersionExists() {
        createModel("conv-options-bad");
        Response bad = send("POST", "/api/v1/models/conv-options-bad/versions", publisher(),
                Map.of("source", SOURCE, "chips", List.of("M2"), "head", "classifier"));
        assertThat(bad.status()).as(bad.text()).isEqualTo(400);
        assertThat(bad.problem()).isEqualTo("invalid-request");
        assertThat(bad.json().path("detail").asString()).isEqualTo("head: must be 'convert' (the checkpoint's task head is"
                + " converted, the default), 'none' (the packages output the base model's hidden states) or the head kind"
                + " to convert: of a checkpoint that has two, fill-mask of a pre-training checkpoint (its masked-LM"
                + " half) or pre-training of a BertForMaskedLM checkpoint that carries the next-sentence head and the"
                + " pooler (one of convert, none, sequence-classification, token-classification, question-answering,"
                + " fill-mask, pre-training), got 'classifier'");
        Response noChips = send("POST", "/api/v1/models/conv-options-bad/versions", publisher(),
                Map.of("source", SOURCE, "tokenTypes", true));
        assertThat(noChips.status()).as(noChips.text()).isEqualTo(400);
        assertThat(noChips.json().path("detail").asString()).startsWith("head and tokenTypes are conversion options: "
                + "pass chips");
        assertThat(get("/api/v1/models/conv-options-bad/versions", reader()).json().size()).isZero();
    }

    /** The created version's conversion, cancelled so that no other test's worker lease picks it up. */
    private tools.jackson.databind.JsonNode conversion(Response created) {
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        var c = get("/api/v1/models/" + created.json().path("model").asString() + "/versions/"
                + created.json().path("version").asInt() + "/conversion", reader()).json();
        assertThat(send("POST", "/api/v1/conversions/" + c.path("id").asLong() + "/cancel", publisher(), null).status())
                .isEqualTo(200);
        return c;
    }
}

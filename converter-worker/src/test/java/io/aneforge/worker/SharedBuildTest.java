package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.mil.Program;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.safetensors.SafetensorsFile;
import io.aneforge.testsupport.models.RawSafetensors;
import io.aneforge.testsupport.models.TinyModels;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * Builds shared by several chips, on a worker with ONE variant thread that talks to the real registry through a
 * {@link FaultProxy}: each build is one partition (no partition waits for another's package holding the thread), a
 * build that fails fails once for all its chips, and the conversion options {@code head} and {@code tokenTypes}
 * reach the packages.
 */
class SharedBuildTest {

    /** One fp16 variant per chip: every chip's variant is the same build, {@code ios16-ane-fp16-s32}. */
    private static final String ONE_BUILD = "variants:\n  - {chips: all, layout: ane, precision: fp16}\n";
    private static final List<String> CHIPS = List.of("A17_PRO", "M2", "M3");

    private static final Stack stack = Stack.get();
    private static FaultProxy proxy;
    private static ConfigurableApplicationContext worker;
    private static Path classifier;
    private static Path bert;

    @BeforeAll
    static void start() throws Exception {
        proxy = FaultProxy.start(stack.url);
        bert = TinyModels.bert(stack.root.resolve("shared-bert"), 31);
        stack.serve("org/shared-bert", "3131313131313131313131313131313131313131", bert);
        classifier = classifier(bert, stack.root.resolve("shared-classifier"));
        worker = stack.startWorker("e2e-shared", 1, Map.of("ANEFORGE_REGISTRY_URL", proxy.url()));
    }

    @AfterAll
    static void stop() {
        if (worker != null) worker.close();
        if (proxy != null) proxy.close();
    }

    @Test
    void threeChipsSharingOneBuildAreOnePartitionOnAPoolOfOneThread() throws Exception {
        MeterRegistry meters = worker.getBean(MeterRegistry.class);
        double builtBefore = meters.counter("aneforge.worker.variants", "result", "built").count();
        double sharedBefore = meters.counter("aneforge.worker.variants", "result", "shared").count();
        JsonNode c = stack.publish("shared-one", hub("org/shared-bert"), CHIPS, 32, ONE_BUILD);
        assertThat(c.path("variants").size()).isEqualTo(3);
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");

        // Every chip's variant registered, all with the one package, built once.
        List<String> chips = new ArrayList<>();
        for (JsonNode v : done.path("variants")) {
            assertThat(v.path("state").asString()).isEqualTo("registered");
            assertThat(v.path("digest").asString()).isEqualTo(done.path("variants").get(0).path("digest").asString());
            chips.add(v.path("chip").asString());
        }
        assertThat(chips).containsExactlyInAnyOrderElementsOf(CHIPS);
        assertThat(done.path("variants").valueStream().mapToInt(v -> v.path("builds").asInt()).sum()).isEqualTo(1);
        assertThat(meters.counter("aneforge.worker.variants", "result", "built").count() - builtBefore).isEqualTo(1);
        assertThat(meters.counter("aneforge.worker.variants", "result", "shared").count() - sharedBefore).isEqualTo(2);
        assertThat(stack.get("/api/v1/models/shared-one/versions/" + done.path("version").asInt() + "/variants").size())
                .isEqualTo(3);

        // The job repository: the variants step ran one partition, for the build, not one per chip that would wait for
        // it; so the single thread was never held by a partition waiting for another's package.
        assertThat(partitions(done.path("id").asLong())).containsExactly(Map.entry("build:ios16-ane-fp16-s32", "COMPLETED"));
    }

    @Test
    void aBuildThatFailsFailsOnceForAllItsChips() throws Exception {
        // The registry refuses the package (for good), once: were the build tried again for another chip, that upload
        // would pass and be seen.
        proxy.inject("PUT", "/api/v1/blobs/sha256:[0-9a-f]+", "ios16-ane-fp16-s24.mlpackage/", FaultProxy.Fault.REFUSED, 1);
        JsonNode c = stack.publish("shared-fail", hub("org/shared-bert"), CHIPS, 24, ONE_BUILD);
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
        assertThat(done.path("attempts").asInt()).isEqualTo(1);
        assertThat(done.path("error").asString()).startsWith(
                "variants: build ios16-ane-fp16-s24 (chips A17_PRO, M2, M3): ").contains("refused by the test's proxy");
        assertThat(proxy.seen("PUT", "/api/v1/blobs/sha256:[0-9a-f]+")).filteredOn(s -> s.body().contains("ios16-ane-fp16-s24.mlpackage/"))
                .as("one upload of the package, refused; no second build for another chip").hasSize(1);
        assertThat(done.path("variants").valueStream().mapToInt(v -> v.path("builds").asInt()).sum()).isEqualTo(1);
        assertThat(stack.get("/api/v1/models/shared-fail/versions/" + done.path("version").asInt()).path("status")
                .asString()).isEqualTo("failed");
        assertThat(partitions(done.path("id").asLong())).containsExactly(Map.entry("build:ios16-ane-fp16-s24", "FAILED"));
    }

    /** By default a classifier's package outputs its logits and takes no token_type_ids, as before the options existed. */
    @Test
    void byDefaultTheHeadIsConvertedWithoutTokenTypes() throws Exception {
        Program p = converted("shared-head", Map.of());
        assertThat(p.inputs()).extracting(Var::name).containsExactly("input_ids", "attention_mask");
        assertThat(p.outputs()).extracting(Var::name).containsExactly("logits");
    }

    /** {@code head: none} and {@code tokenTypes: true} reach the package: hidden-state outputs, a token_type_ids input. */
    @Test
    void headNoneAndTokenTypesReachThePackage() throws Exception {
        Program p = converted("shared-options", Map.of("head", "none", "tokenTypes", true));
        assertThat(p.inputs()).extracting(Var::name).containsExactly("input_ids", "attention_mask", "token_type_ids");
        assertThat(p.outputs()).extracting(Var::name).containsExactly("last_hidden_state", "pooler_output");
    }

    @Test
    void badOptionsAreRefusedOrFailTheConversionNamingTheFix() throws Exception {
        Stack.Res m = stack.send("POST", "/api/v1/models", stack.publisherToken, Map.of("name", "shared-bad", "task", "feature-extraction"));
        assertThat(m.status()).isIn(201, 409);
        Map<String, Object> body = new LinkedHashMap<>(Map.of("source", hub("org/shared-bert"), "chips", CHIPS, "head", "drop"));
        Stack.Res bad = stack.send("POST", "/api/v1/models/shared-bad/versions", stack.publisherToken, body);
        assertThat(bad.status()).as(bad.text()).isEqualTo(400);
        assertThat(bad.json().path("type").asString()).endsWith("invalid-request");
        assertThat(bad.json().path("detail").asString()).contains("head: must be 'convert'", "'none'", "fill-mask", "got 'drop'");
        Stack.Res noChips = stack.send("POST", "/api/v1/models/shared-bad/versions", stack.publisherToken,
                Map.of("source", Map.of("type", "upload"), "tokenTypes", true));
        assertThat(noChips.status()).as(noChips.text()).isEqualTo(400);
        assertThat(noChips.json().path("detail").asString()).contains("pass chips");
        assertThat(stack.get("/api/v1/models/shared-bad/versions").size()).as("nothing created").isZero();

        // A GPT-2 model has no token types: known only once the worker reads it, so the conversion fails at import.
        stack.serve("org/shared-gpt2", "3232323232323232323232323232323232323232",
                TinyModels.gpt2(stack.root.resolve("shared-gpt2"), 32));
        JsonNode c = publish("shared-gpt2", "org/shared-gpt2", Map.of("tokenTypes", true));
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(2), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
        assertThat(done.path("error").asString()).startsWith("import: tokenTypes: ").contains("no token types",
                "publish the version without tokenTypes");
    }

    /**
     * {@code head: pre-training} on a BertForMaskedLM checkpoint that carries the next-sentence head (as
     * bert-base-uncased does): this worker, which declares conversionOptions 2, converts both heads, as {@code convert
     * --head pre-training} does; one without those weights fails the conversion at import naming them, worded for the
     * conversion's {@code head} field (not convert's {@code --head}).
     */
    @Test
    void preTrainingHeadOfAMaskedLmCheckpointThatCarriesTheNextSentenceHead() throws Exception {
        Program p = converted("shared-mlm-nsp", maskedLm(stack.root.resolve("shared-mlm-nsp"), true),
                "3434343434343434343434343434343434343434", Map.of("head", "pre-training"));
        assertThat(p.outputs()).extracting(Var::name).containsExactly("prediction_logits", "seq_relationship_logits");
        assertThat(p.metadata()).containsEntry("aneforge.task", "pre-training")
                .containsEntry("aneforge.architecture", "BertForMaskedLM");

        stack.serve("org/shared-mlm-bare", "3535353535353535353535353535353535353535",
                maskedLm(stack.root.resolve("shared-mlm-bare"), false));
        JsonNode c = publish("shared-mlm-bare", "org/shared-mlm-bare", Map.of("head", "pre-training"));
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(2), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
        assertThat(done.path("error").asString()).startsWith("import: ").contains("head 'pre-training': config.json"
                + " names BertForMaskedLM, and this checkpoint lacks the next-sentence head's tensors"
                + " cls.seq_relationship.weight, cls.seq_relationship.bias").endsWith("publish the version again"
                + " without head (or with head 'convert') to convert the masked-LM head alone (fill-mask), or from"
                + " weights that carry the next-sentence head").doesNotContain("--head");
    }

    /** Converts the classifier with {@code options}, checks the conversion view shows them, reads its one package. */
    private static Program converted(String model, Map<String, Object> options) throws Exception {
        return converted(model, classifier, "3333333333333333333333333333333333333331", options);
    }

    /** Like {@link #converted(String, Map)}, for the checkpoint in {@code snapshot} served at commit {@code sha}. */
    private static Program converted(String model, Path snapshot, String sha, Map<String, Object> options)
            throws Exception {
        String repo = "org/" + model;
        stack.serve(repo, sha, snapshot);
        JsonNode c = publish(model, repo, options);
        assertThat(c.path("head").asString()).isEqualTo(options.getOrDefault("head", "convert"));
        assertThat(c.path("tokenTypes").asBoolean()).isEqualTo(options.getOrDefault("tokenTypes", false));
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        String digest = done.path("variants").get(0).path("digest").asString();
        byte[] zip = stack.send("GET", "/api/v1/blobs/" + digest, stack.publisherToken, null).body();
        Path dir = Files.createTempDirectory(stack.root, "pkg");
        PackageArchive.unzip(new ByteArrayInputStream(zip), dir, PackageArchive.Limits.defaults());
        return MlPackage.read(dir.resolve("ios16-ane-fp16-s32.mlpackage"));
    }

    private static JsonNode publish(String model, String repo, Map<String, Object> options) {
        Stack.Res m = stack.send("POST", "/api/v1/models", stack.publisherToken, Map.of("name", model, "task", "feature-extraction"));
        assertThat(m.status()).as(m.text()).isIn(201, 409);
        Map<String, Object> body = new LinkedHashMap<>(Map.of("source", hub(repo), "chips", List.of("A17_PRO"),
                "seqLen", 32, "recipe", ONE_BUILD));
        body.putAll(options);
        Stack.Res v = stack.send("POST", "/api/v1/models/" + model + "/versions", stack.publisherToken, body);
        assertThat(v.status()).as(v.text()).isEqualTo(201);
        return stack.get("/api/v1/models/" + model + "/versions/" + v.json().path("version").asInt() + "/conversion");
    }

    private static Map<String, Object> hub(String repo) {
        return Map.of("type", "hub", "repo", repo, "revision", "main");
    }

    /**
     * A BertForMaskedLM checkpoint from the tiny BERT's weights (the pooler included) and a masked-LM head, with or
     * without the next-sentence head {@code cls.seq_relationship}.
     */
    private static Path maskedLm(Path dir, boolean nextSentence) throws Exception {
        Files.createDirectories(dir);
        RawSafetensors st = new RawSafetensors();
        try (SafetensorsFile f = SafetensorsFile.open(bert.resolve("model.safetensors"))) {
            for (var t : f.tensors()) st.f32("bert." + t.name(), f.readFloat(t.name()).data(), t.shape());
        }
        int h = TinyModels.HIDDEN;
        int v = io.aneforge.testsupport.models.TinyTokenizers.wordPieceVocab().size();
        st.f32("cls.predictions.transform.dense.weight", wave(h * h), h, h);
        st.f32("cls.predictions.transform.dense.bias", wave(h), h);
        float[] gamma = wave(h);
        for (int i = 0; i < h; i++) gamma[i] += 1;
        st.f32("cls.predictions.transform.LayerNorm.weight", gamma, h);
        st.f32("cls.predictions.transform.LayerNorm.bias", wave(h), h);
        st.f32("cls.predictions.bias", wave(v), v);
        if (nextSentence) {
            st.f32("cls.seq_relationship.weight", wave(2 * h), 2, h);
            st.f32("cls.seq_relationship.bias", new float[] {0.3f, -0.2f}, 2);
        }
        st.write(dir.resolve("model.safetensors"));
        Files.copy(bert.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("config.json"), Files.readString(bert.resolve("config.json"))
                .replace("\"BertModel\"]", "\"BertForMaskedLM\"]"));
        return dir;
    }

    private static float[] wave(int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (0.5 * Math.sin(i * 0.7));
        return w;
    }

    /** A BertForSequenceClassification checkpoint (2 labels) from the tiny BERT's weights. */
    private static Path classifier(Path bert, Path dir) throws Exception {
        Files.createDirectories(dir);
        RawSafetensors st = new RawSafetensors();
        try (SafetensorsFile f = SafetensorsFile.open(bert.resolve("model.safetensors"))) {
            for (var t : f.tensors()) st.f32("bert." + t.name(), f.readFloat(t.name()).data(), t.shape());
        }
        float[] w = new float[2 * TinyModels.HIDDEN];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i);
        st.f32("classifier.weight", w, 2, TinyModels.HIDDEN);
        st.f32("classifier.bias", new float[] {0.5f, -0.5f}, 2);
        st.write(dir.resolve("model.safetensors"));
        Files.copy(bert.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("config.json"), Files.readString(bert.resolve("config.json"))
                .replace("\"BertModel\"]", "\"BertForSequenceClassification\"], \"id2label\": {\"0\": \"NEGATIVE\","
                        + " \"1\": \"POSITIVE\"}"));
        return dir;
    }

    /** The variants step's partitions of the conversion's job executions (step name → status), by execution order. */
    private static List<Map.Entry<String, String>> partitions(long id) throws Exception {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        try (Connection c = stack.workerDb.open();
             PreparedStatement s = c.prepareStatement("SELECT se.step_name, se.status FROM aneforge_batch.batch_step_execution se"
                     + " JOIN aneforge_batch.batch_job_execution_params p ON p.job_execution_id = se.job_execution_id"
                     + " WHERE p.parameter_name = 'conversionId' AND p.parameter_value = ?"
                     + " AND (se.step_name LIKE 'build:%' OR se.step_name LIKE 'variant:%') ORDER BY se.step_execution_id")) {
            s.setString(1, Long.toString(id));
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) out.add(Map.entry(r.getString(1), r.getString(2)));
            }
        }
        return out;
    }
}

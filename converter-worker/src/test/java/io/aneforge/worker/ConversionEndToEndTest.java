package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.convert.Golden;
import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.convert.Samples;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.mlpackage.proto.Model;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.testsupport.models.TinyModels;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** Publish → worker → READY, against the real registry, PostgreSQL, the in-process S3 server and a FakeHub. */
class ConversionEndToEndTest {

    private static final String SHA_TINY = "1111111111111111111111111111111111111111";
    private static final Stack stack = Stack.get();
    private static ConfigurableApplicationContext worker;

    @BeforeAll
    static void startWorker() throws Exception {
        stack.serve("org/tiny-bert", SHA_TINY, TinyModels.bert(stack.root.resolve("tiny-bert"), 7));
        worker = stack.startWorker("e2e-main", 2);
    }

    @AfterAll
    static void stopWorker() {
        if (worker != null) worker.close();
    }

    @Test
    void aTinyBertFromTheHubIsConvertedRegisteredAndResolvable() throws Exception {
        JsonNode c = stack.publishHub("tiny-bert", "org/tiny-bert", List.of("A17_PRO", "M2"), 32);
        int planned = c.path("variants").size();
        assertThat(planned).isEqualTo(6);
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("commit").asString()).isEqualTo(SHA_TINY);
        assertThatReady(done, planned);
        JsonNode resolved = stack.get("/api/v1/models/tiny-bert/resolve?chip=A17_PRO&os=18.2&version=" + done.path("version").asInt());
        List<String> digests = done.path("variants").valueStream().map(v -> v.path("digest").asString()).toList();
        assertThat(digests).contains(resolved.path("digest").asString());

        // The two chips' variants differ only in the chip, which is not in the package: each of the 3 builds
        // is one blob, registered for both chips, and built once (the other chip's partition shares it).
        Map<String, List<String>> chipsByDigest = new HashMap<>();
        done.path("variants").forEach(v -> chipsByDigest.computeIfAbsent(v.path("digest").asString(), d -> new ArrayList<>())
                .add(v.path("chip").asString()));
        assertThat(chipsByDigest).hasSize(3).allSatisfy((d, chips) -> assertThat(chips).containsExactlyInAnyOrder("A17_PRO", "M2"));
        assertThat(done.path("variants").valueStream().mapToInt(v -> v.path("builds").asInt()).sum()).isEqualTo(3);
        MeterRegistry meters = worker.getBean(MeterRegistry.class);
        assertThat(meters.counter("aneforge.worker.variants", "result", "shared").count()).isEqualTo(3);

        // The same commit again: every blob already exists by digest, so nothing is uploaded twice.
        double skippedBefore = meters.counter("aneforge.worker.blobs", "result", "skipped").count();
        double uploadedBefore = meters.counter("aneforge.worker.blobs", "result", "uploaded").count();
        JsonNode again = stack.publishHub("tiny-bert", "org/tiny-bert", List.of("A17_PRO", "M2"), 32);
        JsonNode done2 = stack.await(again.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done2.path("state").asString()).as(done2.toString()).isEqualTo("succeeded");
        assertThat(meters.counter("aneforge.worker.blobs", "result", "skipped").count() - skippedBefore).isEqualTo(3);
        assertThat(meters.counter("aneforge.worker.blobs", "result", "uploaded").count() - uploadedBefore).isZero();
        for (int i = 0; i < planned; i++) {
            assertThat(done2.path("variants").get(i).path("digest").asString())
                    .isEqualTo(done.path("variants").get(i).path("digest").asString());
        }

        // Job/step metrics (Spring Batch observations) and the worker's own counters, scraped from Prometheus.
        assertThat(meters.getMeters()).anyMatch(m -> m.getId().getName().startsWith("spring.batch"));
        String port = worker.getEnvironment().getProperty("local.server.port");
        java.net.http.HttpResponse<String> prom = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/actuator/prometheus")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(prom.statusCode()).isEqualTo(200);
        assertThat(prom.body()).contains("aneforge_worker_variants_total{").contains("aneforge_worker_blobs_total{")
                .contains("spring_batch_");
        // The liveness probe of compose and the Helm chart: enabled by the worker's application.yml, not by them.
        java.net.http.HttpResponse<String> live = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/actuator/health/liveness")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
    }

    @Test
    void allMiniLmL6V2IsConvertedWithTheDefaultRecipe() throws Exception {
        String sha = "2222222222222222222222222222222222222222";
        Path snapshot = MiniLmSnapshot.write(stack.root.resolve("minilm"));
        stack.serve("sentence-transformers/all-MiniLM-L6-v2", sha, snapshot);
        JsonNode c = stack.publishHub("minilm", "sentence-transformers/all-MiniLM-L6-v2", List.of("A17_PRO"), 32); // seqLen 32 keeps the golden run short
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(8), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThatReady(done, 3);
        // The worker's golden blobs are the bytes `convert` writes for the same source, seq len and samples: both
        // encode Golden.inputs and Golden.fullLength, which Golden.forStorage stores unreduced for this model (real
        // tokens only, 0 at padding; GoldenTest, ConvertCommandTest).
        byte[] expectedInputs;
        byte[] expectedOutputs;
        try (Tokenizer tok = Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> in = Golden.inputs(tok, Samples.fixed(), 32);
            expectedInputs = codec(Golden.samples(in));
            expectedOutputs = codec(Golden.fullLength(ModelImporter.importWeights(ModelSnapshot.of(snapshot, null)), in,
                    ProgramEvaluator.runtime(1)));
        }
        assertThat(done.path("goldenDigest").asString()).isEqualTo("sha256:" + sha256(expectedOutputs));
        assertThat(stack.send("GET", "/api/v1/blobs/" + done.path("goldenDigest").asString(), stack.publisherToken, null)
                .body()).isEqualTo(expectedOutputs);
        // blobs are stored by digest: the inputs blob exists only if the worker uploaded these very bytes
        Stack.Res inputs = stack.send("GET", "/api/v1/blobs/sha256:" + sha256(expectedInputs), stack.publisherToken, null);
        assertThat(inputs.status()).isEqualTo(200);
        assertThat(inputs.body()).isEqualTo(expectedInputs);
        assertThat(stack.get("/api/v1/models/minilm/resolve?device=iPhone16,1&os=18.2&version=" + done.path("version").asInt())
                .path("digest").asString()).startsWith("sha256:");
    }

    /**
     * A recipe asking for int4 with the FFN inputs at int8 (-ffn8), also GPTQ-quantized (-gptq: the worker measures the
     * calibration statistics on the snapshot's tokenizer): registered as int4/32/affine-ffn8 and affine-gptq-ffn8.
     */
    @Test
    void anFfn8RecipeVariantIsRegisteredWithItsQuantizationMode() throws Exception {
        String sha = "3333333333333333333333333333333333333333";
        stack.serve("org/wide-bert", sha, TinyModels.bert(stack.root.resolve("wide-bert"), 7, "", 128));
        String recipe = "variants:\n  - {chips: all, layout: ane, precision: int4-block32-affine}\n"
                + "  - {chips: all, layout: ane, precision: int4-block32-affine-ffn8}\n"
                + "  - {chips: all, layout: ane, precision: int4-block32-affine-gptq-ffn8}\n";
        JsonNode c = stack.publish("wide-bert", Map.of("type", "hub", "repo", "org/wide-bert", "revision", "main"),
                List.of("A17_PRO"), 16, recipe);
        assertThat(c.path("variants").valueStream().map(v -> v.path("precision").asString()).toList())
                .containsExactly("int4-block32-affine", "int4-block32-affine-ffn8", "int4-block32-affine-gptq-ffn8");
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThatReady(done, 3);
        JsonNode variants = stack.get("/api/v1/models/wide-bert/versions/" + done.path("version").asInt() + "/variants");
        Map<String, Long> sizeByMode = new HashMap<>();
        for (JsonNode v : variants) {
            assertThat(v.path("precision").asString()).isEqualTo("int4");
            assertThat(v.path("blockSize").asInt()).isEqualTo(32);
            sizeByMode.put(v.path("quantization").asString(), v.path("size").asLong());
        }
        assertThat(sizeByMode).containsOnlyKeys("affine", "affine-ffn8", "affine-gptq-ffn8");
        assertThat(sizeByMode.get("affine-ffn8")).isGreaterThan(sizeByMode.get("affine")); // the FFN inputs take int8 bytes
        JsonNode resolved = stack.get("/api/v1/models/wide-bert/resolve?chip=A17_PRO&os=18.2&version=" + done.path("version").asInt());
        assertThat(resolved.path("variant").path("quantization").asString()).isEqualTo("affine-gptq-ffn8");
    }

    /**
     * V35: a recipe with both W8A8 modes: the worker calibrates once, builds both and registers w8a8-affine as w8a8 with
     * quantization affine beside the symmetric w8a8 (no quantization); resolve prefers the affine one.
     */
    @Test
    void bothW8a8ModesAreRegisteredApart() throws Exception {
        String sha = "4444444444444444444444444444444444444444";
        stack.serve("org/w8a8-bert", sha, TinyModels.bert(stack.root.resolve("w8a8-bert"), 7));
        String recipe = "variants:\n  - {chips: w8a8, layout: ane, precision: w8a8}\n"
                + "  - {chips: w8a8, layout: ane, precision: w8a8-affine}\n";
        JsonNode c = stack.publish("w8a8-bert", Map.of("type", "hub", "repo", "org/w8a8-bert", "revision", "main"),
                List.of("A17_PRO"), 16, recipe);
        assertThat(c.path("variants").valueStream().map(v -> v.path("precision").asString()).toList())
                .containsExactly("w8a8", "w8a8-affine");
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThatReady(done, 2);
        int version = done.path("version").asInt();
        JsonNode variants = stack.get("/api/v1/models/w8a8-bert/versions/" + version + "/variants");
        Map<String, String> digestByMode = new HashMap<>();
        for (JsonNode v : variants) {
            assertThat(v.path("precision").asString()).isEqualTo("w8a8");
            assertThat(v.path("blockSize").isNull()).isTrue();
            assertThat(v.path("deploymentTarget").asString()).isEqualTo("17.0");
            digestByMode.put(v.path("quantization").isNull() ? "symmetric" : v.path("quantization").asString(),
                    v.path("digest").asString());
        }
        assertThat(digestByMode).containsOnlyKeys("symmetric", "affine");
        assertThat(digestByMode.get("affine")).isNotEqualTo(digestByMode.get("symmetric")); // the zero points
        JsonNode resolved = stack.get("/api/v1/models/w8a8-bert/resolve?chip=A17_PRO&os=18.2&version=" + version);
        assertThat(resolved.path("digest").asString()).isEqualTo(digestByMode.get("affine"));
        assertThat(resolved.path("variant").path("quantization").asString()).isEqualTo("affine");
    }

    /** The version is published; every planned variant is registered once, downloads, verifies and reads back. */
    private void assertThatReady(JsonNode done, int planned) throws Exception {
        String model = done.path("model").asString();
        int version = done.path("version").asInt();
        assertThat(stack.get("/api/v1/models/" + model + "/versions/" + version).path("status").asString()).isEqualTo("published");
        JsonNode variants = stack.get("/api/v1/models/" + model + "/versions/" + version + "/variants");
        assertThat(variants.size()).isEqualTo(planned);
        Map<String, String> byDigest = new HashMap<>();
        for (JsonNode v : done.path("variants")) {
            assertThat(v.path("state").asString()).isEqualTo("registered");
            assertThat(v.path("builds").asInt()).isLessThanOrEqualTo(1);
            // the package is named by its build: the spec id without the chip (VariantSpec.buildId)
            String specId = v.path("specId").asString();
            byDigest.put(v.path("digest").asString(), specId.substring(specId.indexOf('-') + 1));
        }
        for (JsonNode v : variants) {
            String digest = v.path("digest").asString();
            assertThat(byDigest).containsKey(digest);
            byte[] zip = stack.send("GET", "/api/v1/blobs/" + digest, stack.publisherToken, null).body();
            assertThat("sha256:" + sha256(zip)).isEqualTo(digest);
            Path dir = Files.createTempDirectory(stack.root, "read");
            PackageArchive.unzip(new ByteArrayInputStream(zip), dir, PackageArchive.Limits.defaults());
            Path pkg = dir.resolve(byDigest.get(digest) + ".mlpackage");
            Model m = MlPackage.readModel(pkg);
            assertThat(m.getSpecificationVersion()).isGreaterThan(0);
            assertThat(MlPackage.read(pkg)).isNotNull();
        }
        String golden = done.path("goldenDigest").asString();
        byte[] g = stack.send("GET", "/api/v1/blobs/" + golden, stack.publisherToken, null).body();
        GoldenOutputs outputs = GoldenOutputsCodec.read(new ByteArrayInputStream(g));
        assertThat(outputs.samples()).isNotEmpty();
        assertThat(outputs.outputNames()).contains("last_hidden_state");
        // The golden step stored inputs + outputs on the version (PUT .../golden), so the agents' jobs are released.
        JsonNode jobs = stack.get("/api/v1/models/" + model + "/versions/" + version + "/jobs");
        assertThat(jobs.size()).isPositive();
        for (JsonNode j : jobs) {
            assertThat(j.path("waitingFor").asString("")).as(j.toString()).doesNotContain("golden");
        }
    }

    private static byte[] codec(GoldenOutputs golden) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        GoldenOutputsCodec.write(golden, out);
        return out.toByteArray();
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}

package io.aneforge.registry.conversion;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.registry.RegistryTestBase;
import io.aneforge.tensor.FloatTensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

class ConversionTest extends RegistryTestBase {

    @Autowired
    JdbcClient jdbc;

    private String worker() {
        return token("worker");
    }

    /** Publishes a hub-sourced version with chips and returns its conversion. */
    private JsonNode publishConversion(String model, List<String> chips) {
        Response r = send("POST", "/api/v1/models/" + model + "/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/" + model, "revision", "main"), "chips", chips));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        assertThat(r.json().path("status").asString()).isEqualTo("draft");
        Response c = get("/api/v1/models/" + model + "/versions/" + r.json().path("version").asInt() + "/conversion", reader());
        assertThat(c.status()).as(c.text()).isEqualTo(200);
        return c.json();
    }

    private JsonNode lease(long id, String workerId) {
        Response r = send("POST", "/api/v1/conversions/" + id + "/lease", worker(), Map.of("worker", workerId));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    @Test
    void publishingWithChipsQueuesAConversionWithTheDefaultRecipeVariants() {
        createModel("conv-plan");
        JsonNode c = publishConversion("conv-plan", List.of("A17_PRO", "M2"));
        assertThat(c.path("state").asString()).isEqualTo("queued");
        assertThat(c.path("recipe").asString()).isEqualTo("default");
        List<String> specs = new ArrayList<>();
        c.path("variants").forEach(v -> specs.add(v.path("specId").asString()));
        assertThat(specs).containsExactly("a17_pro-ios16-ane-fp16-s128", "a17_pro-ios18-ane-int8-block32-s128",
                "a17_pro-ios16-standard-fp16-s128", "m2-ios16-ane-fp16-s128", "m2-ios18-ane-int8-block32-s128",
                "m2-ios16-standard-fp16-s128");
        JsonNode reg = c.path("variants").get(1).path("registration");
        assertThat(reg.path("deploymentTarget").asString()).isEqualTo("18.0");
        assertThat(reg.path("precision").asString()).isEqualTo("int8");
        assertThat(reg.path("blockSize").asInt()).isEqualTo(32);
        assertThat(get("/api/v1/conversions/" + c.path("id").asLong(), reader()).json().path("state").asString())
                .isEqualTo("queued");
    }

    @Test
    void impossibleRecipesAndSourcesAreRejectedAtPublishTimeWithTheReason() {
        createModel("conv-reject");
        Response unknownChip = send("POST", "/api/v1/models/conv-reject/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/x"), "chips", List.of("Z9")));
        assertThat(unknownChip.status()).isEqualTo(422);
        assertThat(unknownChip.problem()).isEqualTo("recipe-rejected");
        assertThat(unknownChip.json().path("detail").asString()).contains("unknown chip 'Z9'");
        Response w8a8OnM2 = send("POST", "/api/v1/models/conv-reject/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/x"), "chips", List.of("M2"), "recipe",
                        "name: fast\nvariants:\n  - chips: [M2]\n    layout: ane\n    precision: w8a8\n"));
        assertThat(w8a8OnM2.problem()).isEqualTo("recipe-rejected");
        assertThat(w8a8OnM2.json().path("detail").asString()).contains("M2").contains("w8a8");
        Response unknownW8a8 = send("POST", "/api/v1/models/conv-reject/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/x"), "chips", List.of("M4"), "recipe",
                        "name: a8\nvariants:\n  - chips: w8a8\n    layout: ane\n    precision: w8a8-zero\n"));
        assertThat(unknownW8a8.status()).isEqualTo(422);
        assertThat(unknownW8a8.problem()).isEqualTo("recipe-rejected");
        assertThat(unknownW8a8.json().path("detail").asString()).contains("unknown precision 'w8a8-zero'")
                .contains("or w8a8[-affine]");
        Response blockwiseOnIos16 = send("POST", "/api/v1/models/conv-reject/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/x"), "chips", List.of("A17_PRO"), "recipe",
                        "name: old\nvariants:\n  - chips: all\n    layout: ane\n    precision: int8-block32\n    target: ios16\n"));
        assertThat(blockwiseOnIos16.problem()).isEqualTo("recipe-rejected");
        assertThat(blockwiseOnIos16.json().path("detail").asString()).contains("ios18");
        Response unknownRecipe = send("POST", "/api/v1/models/conv-reject/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/x"), "chips", List.of("M2"), "recipe", "fancy"));
        assertThat(unknownRecipe.problem()).isEqualTo("recipe-rejected");
        Response upload = send("POST", "/api/v1/models/conv-reject/versions", publisher(),
                Map.of("source", Map.of("type", "upload"), "chips", List.of("M2")));
        assertThat(upload.problem()).isEqualTo("invalid-source");
        Response relative = send("POST", "/api/v1/models/conv-reject/versions", publisher(),
                Map.of("source", Map.of("type", "local", "path", "snapshots/x"), "chips", List.of("M2")));
        assertThat(relative.problem()).isEqualTo("invalid-source");
        // Nothing was created by the refused requests.
        assertThat(get("/api/v1/models/conv-reject/versions", reader()).json().size()).isZero();
    }

    /** V35: a recipe with both W8A8 modes plans both, each with the registration that tells it apart. */
    @Test
    void aRecipeWithW8a8AffineIsPlannedWithItsQuantization() {
        createModel("conv-w8a8");
        Response r = send("POST", "/api/v1/models/conv-w8a8/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/conv-w8a8", "revision", "main"), "chips", List.of("M4"),
                        "recipe", "name: a8\nvariants:\n  - {chips: w8a8, layout: ane, precision: w8a8}\n"
                                + "  - {chips: w8a8, layout: ane, precision: w8a8-affine}\n"));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        JsonNode c = get("/api/v1/models/conv-w8a8/versions/" + r.json().path("version").asInt() + "/conversion", reader()).json();
        List<String> planned = new ArrayList<>();
        c.path("variants").forEach(v -> {
            JsonNode reg = v.path("registration");
            planned.add(v.path("specId").asString() + " " + reg.path("deploymentTarget").asString() + " "
                    + reg.path("precision").asString() + " " + reg.path("blockSize").isNull() + " "
                    + (reg.path("quantization").isNull() ? "-" : reg.path("quantization").asString()));
        });
        assertThat(planned).containsExactly("m4-ios17-ane-w8a8-s128 17.0 w8a8 true -",
                "m4-ios17-ane-w8a8-affine-s128 17.0 w8a8 true affine");
    }

    @Test
    void localSourcesAreAccepted() {
        createModel("conv-local");
        Response r = send("POST", "/api/v1/models/conv-local/versions", publisher(),
                Map.of("source", Map.of("type", "local", "path", "/srv/snapshots/minilm"), "chips", List.of("A14")));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        assertThat(r.json().path("source").path("path").asString()).isEqualTo("/srv/snapshots/minilm");
    }

    @Test
    void aWorkerReportsProgressRegistersEveryVariantAndCompletingPublishesTheVersion() {
        createModel("conv-run");
        JsonNode c = publishConversion("conv-run", List.of("A14"));
        long id = c.path("id").asLong();
        int version = c.path("version").asInt();
        JsonNode lease = lease(id, "w1");
        String token = lease.path("leaseToken").asString();
        assertThat(lease.path("conversion").path("attempts").asInt()).isEqualTo(1);
        Response early = send("POST", "/api/v1/conversions/" + id + "/complete", worker(), Map.of("leaseToken", token));
        assertThat(early.problem()).isEqualTo("conversion-incomplete");
        String golden = upload(goldenBlob("last_hidden_state", 0.25f, -1f)); // the registry reads its header
        Response p = send("POST", "/api/v1/conversions/" + id + "/progress", worker(), Map.of("leaseToken", token,
                "step", "golden", "commit", "0123456789abcdef0123456789abcdef01234567", "goldenDigest", golden));
        assertThat(p.status()).as(p.text()).isEqualTo(200);
        Response nullEntry = send("POST", "/api/v1/conversions/" + id + "/progress", worker(),
                "{\"leaseToken\": \"" + token + "\", \"variants\": [null]}");
        assertThat(nullEntry.status()).as(nullEntry.text()).isEqualTo(400);
        assertThat(nullEntry.json().path("detail").asString()).contains("variants[0] is null");
        for (JsonNode v : lease.path("conversion").path("variants")) {
            String spec = v.path("specId").asString();
            for (int repeat = 0; repeat < 2; repeat++) { // a retried report (the first answer lost) counts one build
                Response building = send("POST", "/api/v1/conversions/" + id + "/progress", worker(), Map.of("leaseToken",
                        token, "step", "variants", "variants", List.of(Map.of("specId", spec, "state", "building"))));
                assertThat(building.status()).as(building.text()).isEqualTo(200);
            }
            JsonNode reg = v.path("registration");
            String digest = upload(mlpackage("conv-run-" + spec));
            Map<String, Object> body = new java.util.HashMap<>(Map.of("chip", reg.path("chip").asString(),
                    "deploymentTarget", reg.path("deploymentTarget").asString(), "layout", reg.path("layout").asString(),
                    "precision", reg.path("precision").asString(), "seqLen", reg.path("seqLen").asInt(), "digest", digest));
            if (!reg.path("blockSize").isNull()) body.put("blockSize", reg.path("blockSize").asInt());
            Response registered = send("POST", "/api/v1/models/conv-run/versions/" + version + "/variants", worker(), body);
            assertThat(registered.status()).as(registered.text()).isEqualTo(201);
            Response done = send("POST", "/api/v1/conversions/" + id + "/progress", worker(), Map.of("leaseToken", token,
                    "variants", List.of(Map.of("specId", spec, "state", "registered", "digest", digest,
                            "size", registered.json().path("size").asLong(), "variantId", registered.json().path("id").asLong()))));
            assertThat(done.status()).as(done.text()).isEqualTo(200);
            Response rebuild = send("POST", "/api/v1/conversions/" + id + "/progress", worker(), Map.of("leaseToken", token,
                    "variants", List.of(Map.of("specId", spec, "state", "building"))));
            assertThat(rebuild.problem()).isEqualTo("variant-already-registered");
        }
        Response manual = send("POST", "/api/v1/models/conv-run/versions/" + version + "/publish", publisher(), null);
        assertThat(manual.problem()).isEqualTo("version-converting");
        // Completing publishes, so it needs the golden data the worker stores in its golden step (PUT .../golden):
        // refused without it, and the conversion stays running for the worker to store it and complete again.
        Response noGolden = send("POST", "/api/v1/conversions/" + id + "/complete", worker(), Map.of("leaseToken", token));
        assertThat(noGolden.status()).as(noGolden.text()).isEqualTo(409);
        assertThat(noGolden.problem()).isEqualTo("golden-data-missing");
        assertThat(get("/api/v1/conversions/" + id, reader()).json().path("state").asString()).isEqualTo("running");
        Response stored = send("PUT", "/api/v1/models/conv-run/versions/" + version + "/golden", worker(),
                Map.of("inputs", upload(goldenBlob("input_ids", 101, 102)), "outputs", golden));
        assertThat(stored.status()).as(stored.text()).isEqualTo(200);
        String completeId = "conv-run-complete-" + id;
        Response complete = send("POST", "/api/v1/conversions/" + id + "/complete", worker(), Map.of("leaseToken", token),
                "X-Request-Id", completeId);
        assertThat(complete.status()).as(complete.text()).isEqualTo(200);
        // the publish is the worker's, in the audit trail (V22)
        JsonNode published = auditEvent(completeId, "version.publish", "test-worker");
        assertThat(published.path("model").asString()).isEqualTo("conv-run");
        assertThat(published.path("version").asInt()).isEqualTo(version);
        assertThat(published.path("detail").path("conversion").asLong()).isEqualTo(id);
        assertThat(complete.json().path("state").asString()).isEqualTo("succeeded");
        assertThat(complete.json().path("goldenDigest").asString()).isEqualTo(golden);
        // A worker that lost the answer completes again: the same answer, nothing else happens.
        String finishedAt = get("/api/v1/conversions/" + id, reader()).json().path("finishedAt").asString();
        Response repeat = send("POST", "/api/v1/conversions/" + id + "/complete", worker(), Map.of("leaseToken", token),
                "X-Request-Id", completeId + "-repeat");
        assertThat(repeat.status()).as(repeat.text()).isEqualTo(200);
        assertThat(auditEvents(completeId + "-repeat")).as("a repeat publishes nothing").isEmpty();
        assertThat(repeat.json().path("state").asString()).isEqualTo("succeeded");
        assertThat(repeat.json().path("finishedAt").asString()).as("not completed again")
                .isEqualTo(finishedAt);
        Response otherToken = send("POST", "/api/v1/conversions/" + id + "/complete", worker(), Map.of("leaseToken", "nope"));
        assertThat(otherToken.problem()).isEqualTo("lease-lost");
        Response released = send("POST", "/api/v1/conversions/" + id + "/release", worker(), Map.of("leaseToken", token));
        assertThat(released.status()).as("a finished conversion cannot be released: " + released.text()).isEqualTo(409);
        assertThat(released.problem()).isEqualTo("lease-lost");
        JsonNode v = get("/api/v1/models/conv-run/versions/" + version, reader()).json();
        assertThat(v.path("status").asString()).isEqualTo("published");
        assertThat(v.path("source").path("commit").asString()).isEqualTo("0123456789abcdef0123456789abcdef01234567");
        complete.json().path("variants").forEach(x -> assertThat(x.path("builds").asInt()).isEqualTo(1));
        Response r = get("/api/v1/models/conv-run/resolve?device=iPhone13,2&os=18.0&version=" + version, reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
    }

    /**
     * The conversion carries its version's golden pair ({@code versionGolden}): fields null before {@code PUT .../golden},
     * then both digests and the format the registry read from the blobs, in the lease answer and the reads alike, and a
     * pair that replaces it on the draft (a retry whose samples differ) replaces it there too. It is the version's, not
     * what a worker reported: {@code goldenDigest} stays null.
     */
    @Test
    void theConversionCarriesItsVersionsGoldenPairOnceSetAndAsReplaced() {
        createModel("conv-golden");
        JsonNode c = publishConversion("conv-golden", List.of("A14"));
        long id = c.path("id").asLong();
        int version = c.path("version").asInt();
        assertNoPair(c.path("versionGolden"));
        JsonNode first = lease(id, "w1");
        assertNoPair(first.path("conversion").path("versionGolden"));

        String in = upload(goldenBlob("input_ids", 101, 102));
        String out = upload(goldenBlob("logits", 0.5f, -1f));
        Response stored = send("PUT", "/api/v1/models/conv-golden/versions/" + version + "/golden", worker(),
                Map.of("inputs", in, "outputs", out));
        assertThat(stored.status()).as(stored.text()).isEqualTo(200);
        JsonNode pair = get("/api/v1/conversions/" + id, reader()).json().path("versionGolden");
        assertThat(pair.path("inputsDigest").asString()).isEqualTo(in);
        assertThat(pair.path("outputsDigest").asString()).isEqualTo(out);
        assertThat(pair.path("format").asInt()).as("what GoldenOutputsCodec writes for whole tensors").isEqualTo(2);
        assertThat(get("/api/v1/conversions/" + id, reader()).json().path("goldenDigest").isNull()).isTrue();

        // another pair on the draft, written as format 1: the next lease answer carries it
        String in1 = upload(goldenBlob(1, "input_ids", 101, 7, 102));
        String out1 = upload(goldenBlob(1, "logits", 0.25f, 1f));
        Response replaced = send("PUT", "/api/v1/models/conv-golden/versions/" + version + "/golden", worker(),
                Map.of("inputs", in1, "outputs", out1));
        assertThat(replaced.status()).as(replaced.text()).isEqualTo(200);
        Response released = send("POST", "/api/v1/conversions/" + id + "/release", worker(),
                Map.of("leaseToken", first.path("leaseToken").asString()));
        assertThat(released.status()).as(released.text()).isEqualTo(204);
        JsonNode again = lease(id, "w2").path("conversion").path("versionGolden");
        assertThat(again.path("inputsDigest").asString()).isEqualTo(in1);
        assertThat(again.path("outputsDigest").asString()).isEqualTo(out1);
        assertThat(again.path("format").asInt()).isEqualTo(1);
        assertThat(get("/api/v1/models/conv-golden/versions/" + version + "/conversion", reader()).json()
                .path("versionGolden")).isEqualTo(again);
    }

    private static void assertNoPair(JsonNode versionGolden) {
        assertThat(versionGolden.isObject()).as("sent even before a pair is set: " + versionGolden).isTrue();
        assertThat(versionGolden.path("inputsDigest").isNull()).as(versionGolden.toString()).isTrue();
        assertThat(versionGolden.path("outputsDigest").isNull()).as(versionGolden.toString()).isTrue();
        assertThat(versionGolden.path("format").isNull()).as(versionGolden.toString()).isTrue();
    }

    /** A one-sample golden blob written as format {@code version}. */
    private static byte[] goldenBlob(int version, String name, float... values) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            GoldenOutputsCodec.write(new GoldenOutputs(List.of(GoldenOutputs.Sample.of("0",
                    Map.of(name, new FloatTensor(new int[] {1, 1, values.length}, values))))), out, version);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void anExpiredLeaseReturnsTheConversionAndTheOldTokenIsRefused() {
        createModel("conv-expire");
        long id = publishConversion("conv-expire", List.of("A14")).path("id").asLong();
        String first = lease(id, "w1").path("leaseToken").asString();
        Response held = send("POST", "/api/v1/conversions/" + id + "/lease", worker(), Map.of("worker", "w2"));
        assertThat(held.problem()).isEqualTo("conversion-not-leasable");
        jdbc.sql("UPDATE conversion SET lease_expires_at = now() - interval '1 second' WHERE id = ?").param(id).update();
        JsonNode second = lease(id, "w2");
        assertThat(second.path("conversion").path("attempts").asInt()).isEqualTo(2);
        Response stale = send("POST", "/api/v1/conversions/" + id + "/heartbeat", worker(), Map.of("leaseToken", first));
        assertThat(stale.problem()).isEqualTo("lease-lost");
        Response hb = send("POST", "/api/v1/conversions/" + id + "/heartbeat", worker(),
                Map.of("leaseToken", second.path("leaseToken").asString()));
        assertThat(hb.status()).as(hb.text()).isEqualTo(200);
        // The same worker (restarted) may re-lease its own running conversion without waiting for expiry.
        assertThat(lease(id, "w2").path("conversion").path("attempts").asInt()).isEqualTo(3);
    }

    @Test
    void attemptsAreCappedAndTheLastExpiryFailsTheConversionAndItsVersion() {
        createModel("conv-cap");
        JsonNode c = publishConversion("conv-cap", List.of("A14"));
        long id = c.path("id").asLong();
        lease(id, "w1");
        jdbc.sql("UPDATE conversion SET attempts = max_attempts, lease_expires_at = now() - interval '1 second' WHERE id = ?")
                .param(id).update();
        Response r = send("POST", "/api/v1/conversions/" + id + "/lease", worker(), Map.of("worker", "w2"));
        assertThat(r.problem()).isEqualTo("conversion-not-leasable");
        JsonNode after = get("/api/v1/conversions/" + id, reader()).json();
        assertThat(after.path("state").asString()).isEqualTo("failed");
        assertThat(after.path("error").asString()).contains("attempts exhausted (3 of 3)");
        assertThat(get("/api/v1/models/conv-cap/versions/" + c.path("version").asInt(), reader()).json()
                .path("status").asString()).isEqualTo("failed");
    }

    @Test
    void aFailureFailsTheVersionAndRemovesItsVariants() {
        createModel("conv-fail");
        JsonNode c = publishConversion("conv-fail", List.of("A14"));
        long id = c.path("id").asLong();
        int version = c.path("version").asInt();
        String token = lease(id, "w1").path("leaseToken").asString();
        addVariant("conv-fail", version, "A14", "16.0", "ane", "fp16");
        Response f = send("POST", "/api/v1/conversions/" + id + "/fail", worker(),
                Map.of("leaseToken", token, "reason", "import: config.json: unsupported architecture 'T5Model'"));
        assertThat(f.status()).as(f.text()).isEqualTo(200);
        assertThat(f.json().path("error").asString()).contains("unsupported architecture");
        Response repeat = send("POST", "/api/v1/conversions/" + id + "/fail", worker(),
                Map.of("leaseToken", token, "reason", "import: config.json: unsupported architecture 'T5Model'"));
        assertThat(repeat.status()).as("a repeated fail of the same lease: " + repeat.text()).isEqualTo(200);
        assertThat(repeat.json().path("state").asString()).isEqualTo("failed");
        assertThat(get("/api/v1/models/conv-fail/versions/" + version, reader()).json().path("status").asString())
                .isEqualTo("failed");
        assertThat(get("/api/v1/models/conv-fail/versions/" + version + "/variants", reader()).json().size()).isZero();
        // A release after the holder's own fail is not that release's repeat: the lease is gone.
        for (boolean trouble : List.of(true, false)) {
            Response release = send("POST", "/api/v1/conversions/" + id + "/release", worker(),
                    Map.of("leaseToken", token, "reason", "registry unreachable", "trouble", trouble));
            assertThat(release.status()).as("trouble " + trouble + ": " + release.text()).isEqualTo(409);
            assertThat(release.json().path("type").asString()).endsWith("/lease-lost");
        }
    }

    @Test
    void aReleasedLeaseIsQueuedAgainWithoutSpendingAnAttempt() {
        createModel("conv-release");
        long id = publishConversion("conv-release", List.of("A14")).path("id").asLong();
        String first = lease(id, "w1").path("leaseToken").asString();
        Response released = send("POST", "/api/v1/conversions/" + id + "/release", worker(),
                Map.of("leaseToken", first, "reason", "worker shutting down"));
        assertThat(released.status()).as(released.text()).isEqualTo(204);
        JsonNode queued = get("/api/v1/conversions/" + id, reader()).json();
        assertThat(queued.path("state").asString()).isEqualTo("queued");
        assertThat(queued.path("attempts").asInt()).as("a release spends no attempt").isZero();
        assertThat(queued.path("leaseExpiresAt").isNull() || queued.path("leaseExpiresAt").isMissingNode()).isTrue();
        Response again = send("POST", "/api/v1/conversions/" + id + "/release", worker(), Map.of("leaseToken", first));
        assertThat(again.status()).as("a repeated release: " + again.text()).isEqualTo(204);
        Response heartbeat = send("POST", "/api/v1/conversions/" + id + "/heartbeat", worker(), Map.of("leaseToken", first));
        assertThat(heartbeat.problem()).as("a released lease is over").isEqualTo("lease-lost");

        // The next worker leases it at once (no waiting for an expiry), on attempt 1.
        Response next = send("POST", "/api/v1/conversions/lease", worker(), Map.of("worker", "w2"));
        assertThat(next.status()).as(next.text()).isEqualTo(200);
        assertThat(next.json().path("conversion").path("id").asLong()).isEqualTo(id);
        assertThat(next.json().path("conversion").path("attempts").asInt()).isEqualTo(1);
        Response stale = send("POST", "/api/v1/conversions/" + id + "/release", worker(), Map.of("leaseToken", first));
        assertThat(stale.status()).isEqualTo(409);
        assertThat(stale.problem()).isEqualTo("lease-lost");
        assertThat(stale.json().path("detail").asString()).contains("last leased by 'w2'");
        assertThat(get("/api/v1/conversions/" + id, reader()).json().path("state").asString()).isEqualTo("running");

        Response noToken = send("POST", "/api/v1/conversions/" + id + "/release", worker(), Map.of("reason", "x"));
        assertThat(noToken.status()).isEqualTo(400);
        assertThat(noToken.json().path("detail").asString()).contains("leaseToken");
        Response missing = send("POST", "/api/v1/conversions/999999999/release", worker(), Map.of("leaseToken", first));
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.problem()).isEqualTo("conversion-not-found");
        assertThat(send("POST", "/api/v1/conversions/" + id + "/cancel", publisher(), null).status()).isEqualTo(200);
        Response cancelled = send("POST", "/api/v1/conversions/" + id + "/release", worker(),
                Map.of("leaseToken", next.json().path("leaseToken").asString()));
        assertThat(cancelled.problem()).isEqualTo("conversion-cancelled");
    }

    @Test
    void aLeaseWhoseAnswerTheWorkerCouldNotReadIsReleasedByItsRequestOnlyForThatWorker() {
        createModel("conv-request");
        long id = publishConversion("conv-request", List.of("A14")).path("id").asLong();
        String request = java.util.UUID.randomUUID().toString();
        Response leased = send("POST", "/api/v1/conversions/" + id + "/lease", worker(),
                Map.of("worker", "w-request", "request", request));
        assertThat(leased.status()).as(leased.text()).isEqualTo(200);
        // The worker could not read that answer: it knows only its worker id and the request id it sent.
        String path = "/api/v1/conversions/lease-requests/" + request + "/release";
        Response other = send("POST", path, worker(), Map.of("worker", "w-other", "reason", "x"));
        assertThat(other.status()).as(other.text()).isEqualTo(200);
        assertThat(other.json().path("released").asBoolean()).as("another worker naming the request").isFalse();
        assertThat(other.json().path("outcome").asString()).isEqualTo("none");
        Response wrong = send("POST", "/api/v1/conversions/lease-requests/" + java.util.UUID.randomUUID() + "/release",
                worker(), Map.of("worker", "w-request"));
        assertThat(wrong.json().path("released").asBoolean()).as("another request of the same worker").isFalse();
        assertThat(get("/api/v1/conversions/" + id, reader()).json().path("state").asString()).isEqualTo("running");

        Response mine = send("POST", path, worker(), Map.of("worker", "w-request", "reason", "lease answer not JSON"));
        assertThat(mine.status()).as(mine.text()).isEqualTo(200);
        assertThat(mine.json().path("released").asBoolean()).isTrue();
        assertThat(mine.json().path("conversionId").asLong()).isEqualTo(id);
        assertThat(mine.json().path("outcome").asString()).isEqualTo("released");
        assertThat(mine.json().path("handBacks").asInt()).as("counted like a hand-back for trouble").isEqualTo(1);
        assertThat(mine.json().path("maxHandBacks").asInt()).isEqualTo(3);
        JsonNode queued = get("/api/v1/conversions/" + id, reader()).json();
        assertThat(queued.path("state").asString()).isEqualTo("queued");
        assertThat(queued.path("attempts").asInt()).as("no attempt spent").isZero();
        assertThat(send("POST", path, worker(), Map.of("worker", "w-request")).json().path("released").asBoolean())
                .as("a repeat releases nothing").isFalse();
        Response noWorker = send("POST", path, worker(), Map.of("reason", "x"));
        assertThat(noWorker.status()).as(noWorker.text()).isEqualTo(400);
    }

    /**
     * A release by request that finds nothing (the worker lost its lease call's answer before the call reached the
     * registry) is remembered: the call, arriving late, grants nothing (204 for the queue's next conversion, 409 for a
     * lease by id), the conversion stays queued with no attempt spent, and the worker's second release finds nothing.
     * Another request of the same worker, and the same request id of another worker, still lease it.
     */
    @Test
    void aLeaseCallReleasedBeforeItsGrantGetsNothing() {
        createModel("conv-refused");
        long id = publishConversion("conv-refused", List.of("A14")).path("id").asLong();
        String request = java.util.UUID.randomUUID().toString();
        String path = "/api/v1/conversions/lease-requests/" + request + "/release";
        Response first = send("POST", path, worker(), Map.of("worker", "w-refused", "reason", "lease answer lost"));
        assertThat(first.status()).as(first.text()).isEqualTo(200);
        assertThat(first.json().path("outcome").asString()).isEqualTo("none");

        Response late = send("POST", "/api/v1/conversions/lease", worker(), Map.of("worker", "w-refused", "request", request));
        assertThat(late.status()).as("the late call: " + late.text()).isEqualTo(204);
        Response lateById = send("POST", "/api/v1/conversions/" + id + "/lease", worker(),
                Map.of("worker", "w-refused", "request", request));
        assertThat(lateById.status()).as(lateById.text()).isEqualTo(409);
        assertThat(lateById.text()).contains("conversion-not-leasable", "released lease request " + request);
        JsonNode queued = get("/api/v1/conversions/" + id, reader()).json();
        assertThat(queued.path("state").asString()).isEqualTo("queued");
        assertThat(queued.path("attempts").asInt()).as("no attempt spent").isZero();
        assertThat(send("POST", path, worker(), Map.of("worker", "w-refused")).json().path("outcome").asString())
                .as("the worker's second release").isEqualTo("none");

        Response other = send("POST", "/api/v1/conversions/" + id + "/lease", worker(),
                Map.of("worker", "w-refused-other", "request", request));
        assertThat(other.status()).as("another worker with the same request id: " + other.text()).isEqualTo(200);
        assertThat(other.json().path("conversion").path("attempts").asInt()).isEqualTo(1);
        assertThat(release(id, other.json().path("leaseToken").asString(), false, "test").status()).isEqualTo(200);
        Response mine = send("POST", "/api/v1/conversions/" + id + "/lease", worker(),
                Map.of("worker", "w-refused", "request", java.util.UUID.randomUUID().toString()));
        assertThat(mine.status()).as("another request of the same worker: " + mine.text()).isEqualTo(200);
        assertThat(release(id, mine.json().path("leaseToken").asString(), false, "test").status()).isEqualTo(200);
    }

    private Response release(long id, String token, Boolean trouble, String reason) {
        Map<String, Object> body = new java.util.HashMap<>(Map.of("leaseToken", token, "reason", reason));
        if (trouble != null) body.put("trouble", trouble);
        return send("POST", "/api/v1/conversions/" + id + "/release", worker(), body);
    }

    /**
     * Hand-backs for trouble are counted per conversion and worker in the database: past
     * aneforge.conversions.max-hand-backs (3) the next one fails the conversion, naming the count, the bound and the
     * last reason. A stopping worker's release (trouble false) and another worker's hand-backs do not add to the
     * count; a release without the field (a worker before V14) is answered 204 as before.
     */
    @Test
    void handBacksForTroubleAreCountedPerConversionAndWorkerAndFailItPastTheBound() {
        createModel("conv-hand-backs");
        JsonNode published = publishConversion("conv-hand-backs", List.of("A14"));
        long id = published.path("id").asLong();
        for (int i = 1; i <= 3; i++) {
            Response r = release(id, lease(id, "w-hb").path("leaseToken").asString(), true, "registry unreachable " + i);
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat(r.json().path("outcome").asString()).isEqualTo("released");
            assertThat(r.json().path("conversionId").asLong()).isEqualTo(id);
            assertThat(r.json().path("handBacks").asInt()).isEqualTo(i);
            assertThat(r.json().path("maxHandBacks").asInt()).isEqualTo(3);
        }
        Response stopping = release(id, lease(id, "w-hb").path("leaseToken").asString(), false, "the worker is stopping");
        assertThat(stopping.status()).as(stopping.text()).isEqualTo(200);
        assertThat(stopping.json().path("outcome").asString()).isEqualTo("released");
        assertThat(stopping.json().path("handBacks").asInt()).as("a stopping worker's release is not counted").isEqualTo(3);
        Response other = release(id, lease(id, "w-hb-other").path("leaseToken").asString(), true, "disk full");
        assertThat(other.json().path("handBacks").asInt()).as("another worker's own count").isEqualTo(1);
        assertThat(get("/api/v1/conversions/" + id, reader()).json().path("state").asString()).isEqualTo("queued");

        String token = lease(id, "w-hb").path("leaseToken").asString();
        Response fourth = release(id, token, true, "registry unreachable 4");
        assertThat(fourth.status()).as(fourth.text()).isEqualTo(200);
        assertThat(fourth.json().path("outcome").asString()).isEqualTo("failed");
        assertThat(fourth.json().path("handBacks").asInt()).isEqualTo(4);
        String failure = fourth.json().path("failure").asString();
        assertThat(failure).startsWith("worker 'w-hb' handed conversion " + id + " back 4 times")
                .contains("max-hand-backs allows 3", "the last: registry unreachable 4");
        JsonNode c = get("/api/v1/conversions/" + id, reader()).json();
        assertThat(c.path("state").asString()).isEqualTo("failed");
        assertThat(c.path("error").asString()).isEqualTo(failure);
        assertThat(get("/api/v1/models/conv-hand-backs/versions/" + published.path("version").asInt(), reader()).json()
                .path("status").asString()).isEqualTo("failed");
        Response repeat = release(id, token, true, "registry unreachable 4");
        assertThat(repeat.status()).as("a repeat (the answer was lost): " + repeat.text()).isEqualTo(200);
        assertThat(repeat.json().path("outcome").asString()).isEqualTo("failed");
        assertThat(repeat.json().path("failure").asString()).isEqualTo(failure);
        assertThat(jdbc.sql("SELECT hand_backs FROM conversion_hand_back WHERE conversion_id = ? AND worker = 'w-hb'")
                .param(id).query(Integer.class).single()).as("the repeat counted nothing").isEqualTo(4);
    }

    @Test
    void pastTheFreeReleasesAReleaseSpendsTheAttempt() {
        // A conversion whose build gets its worker stopped every time must not go round for ever.
        createModel("conv-releases");
        long id = publishConversion("conv-releases", List.of("A14")).path("id").asLong();
        for (int i = 1; i <= FREE_RELEASES; i++) { // aneforge.conversions.free-releases (4 here, 10 by default)
            String token = lease(id, "w1").path("leaseToken").asString();
            Response r = send("POST", "/api/v1/conversions/" + id + "/release", worker(),
                    Map.of("leaseToken", token, "reason", "the worker is shutting down"));
            assertThat(r.status()).as(r.text()).isEqualTo(204);
            assertThat(get("/api/v1/conversions/" + id, reader()).json().path("attempts").asInt())
                    .as("release " + i + " gives the attempt back").isZero();
        }
        for (int attempt = 1; attempt <= 3; attempt++) {
            String token = lease(id, "w1").path("leaseToken").asString();
            Response r = send("POST", "/api/v1/conversions/" + id + "/release", worker(), Map.of("leaseToken", token));
            assertThat(r.status()).as(r.text()).isEqualTo(204);
            JsonNode c = get("/api/v1/conversions/" + id, reader()).json();
            assertThat(c.path("state").asString()).isEqualTo("queued");
            assertThat(c.path("attempts").asInt()).as("past the free releases the attempt is spent").isEqualTo(attempt);
        }
        Response exhausted = send("POST", "/api/v1/conversions/" + id + "/lease", worker(), Map.of("worker", "w1"));
        assertThat(exhausted.status()).as(exhausted.text()).isEqualTo(409);
        assertThat(get("/api/v1/conversions/" + id, reader()).json().path("state").asString()).isEqualTo("failed");
    }

    @Test
    void cancellingStopsTheWorker() {
        createModel("conv-cancel");
        long id = publishConversion("conv-cancel", List.of("A14")).path("id").asLong();
        String token = lease(id, "w1").path("leaseToken").asString();
        assertThat(send("POST", "/api/v1/conversions/" + id + "/cancel", worker(), null).status()).isEqualTo(403);
        Response cancel = send("POST", "/api/v1/conversions/" + id + "/cancel", publisher(), null);
        assertThat(cancel.status()).as(cancel.text()).isEqualTo(200);
        assertThat(cancel.json().path("state").asString()).isEqualTo("cancelled");
        Response hb = send("POST", "/api/v1/conversions/" + id + "/heartbeat", worker(), Map.of("leaseToken", token));
        assertThat(hb.problem()).isEqualTo("conversion-cancelled");
    }

    @Test
    void concurrentWorkersLeaseEachConversionExactlyOnce() throws Exception {
        createModel("conv-race");
        List<Long> mine = new ArrayList<>();
        for (int i = 0; i < 6; i++) mine.add(publishConversion("conv-race", List.of("A14")).path("id").asLong());
        Map<Long, Integer> leased = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                String workerId = "racer-" + w;
                fs.add(pool.submit(() -> {
                    while (true) {
                        Response r = send("POST", "/api/v1/conversions/lease", worker(), Map.of("worker", workerId));
                        if (r.status() == 204) return;
                        if (r.status() != 200) {
                            errors.add(r.text());
                            return;
                        }
                        leased.merge(r.json().path("conversion").path("id").asLong(), 1, Integer::sum);
                    }
                }));
            }
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertThat(errors).isEmpty();
        for (long id : mine) assertThat(leased.get(id)).as("conversion " + id).isEqualTo(1);
    }
}

package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** The queue through the HTTP API: creation, matching, leases, expiry, attempt caps, holder checks, validation. */
class JobQueueTest extends JobTestSupport {

    @Autowired
    JdbcClient jdbc;

    /** A new model's version with one fp16 variant on {@code chip} (seqLen 128), its jobs queued, no golden data yet. */
    private int modelWithVariant(String model, String chip, List<String> computeUnits) {
        return newVersionWithVariant(model, chip, 128, computeUnits).version();
    }

    @Test
    void registeringAVariantQueuesOneBenchmarkPerComputeUnitAndOneAccuracyJob() {
        int v = modelWithVariant("jobs-default", "M2", null);
        JsonNode jobs = jobs("jobs-default", v);
        assertThat(jobs).hasSize(5);
        List<String> benchmarks = new ArrayList<>();
        for (JsonNode j : jobs) {
            assertThat(j.path("state").asString()).isEqualTo("pending");
            assertThat(j.path("attempts").asInt()).isZero();
            if (j.path("kind").asString().equals("benchmark")) {
                assertThat(j.path("runtime").asString()).isEqualTo("coreml");
                assertThat(j.path("requiredChip").asString()).isEqualTo("M2");
                benchmarks.add(j.path("computeUnits").asString());
            } else {
                assertThat(j.path("kind").asString()).isEqualTo("accuracy");
                assertThat(j.path("runtime").asString()).isEqualTo("reference-cpu");
                assertThat(j.path("requiredChip").isNull()).isTrue();
            }
        }
        assertThat(benchmarks).containsExactly("cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all");

        int v2 = createVersion("jobs-default");
        Response chosen = send("POST", "/api/v1/models/jobs-default/versions/" + v2 + "/variants", publisher(),
                Map.of("chip", "M2", "deploymentTarget", "18.0", "layout", "ane", "precision", "fp16", "seqLen", 128,
                        "digest", upload(mlpackage("jobs-default-2")), "computeUnits", List.of("cpuAndNeuralEngine")));
        assertThat(chosen.status()).as(chosen.text()).isEqualTo(201);
        assertThat(jobs("jobs-default", v2)).extracting(j -> j.path("computeUnits").asString())
                .containsExactly("cpuAndNeuralEngine", "cpuOnly");

        Response bad = send("POST", "/api/v1/models/jobs-default/versions/" + v2 + "/variants", publisher(),
                Map.of("chip", "M2", "deploymentTarget", "18.0", "layout", "ane", "precision", "fp16", "seqLen", 256,
                        "digest", upload(mlpackage("jobs-default-3", 256)), "computeUnits", List.of("neuralEngineOnly")));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().path("detail").asString()).contains("computeUnits entry 'neuralEngineOnly' must be one of");
        // The variant and its jobs commit together or not at all.
        Response variants = get("/api/v1/models/jobs-default/versions/" + v2 + "/variants", reader());
        assertThat(variants.json()).hasSize(1);
    }

    @Test
    void pendingJobsSayWhatTheyWaitForAndLeasesMatchChipAndRuntime() {
        int v = modelWithVariant("jobs-match", "M3", null);
        assertThat(jobs("jobs-match", v).get(0).path("waitingFor").asString()).startsWith("golden inputs and outputs of"
                + " version " + v + " are not stored yet").endsWith("aneforge publish --dir from a convert output before it publishes");
        String m1 = registerAgent("match-m1", "M1", List.of("coreml", "reference-cpu"));
        // Accuracy jobs run on any reference-cpu agent, so other tests' leftovers may come first; none is ours yet.
        consumeForeign(m1, "jobs-match", "match-m1");
        setGolden("jobs-match", v);
        JsonNode pending = jobs("jobs-match", v);
        assertThat(pending.get(0).path("waitingFor").asString()).isEqualTo("no online agent offers runtime 'coreml' on chip M3");
        assertThat(pending.get(4).path("waitingFor").isNull()).as("match-m1 offers reference-cpu").isTrue();

        // M1 agent: only the accuracy job (any chip), never an M3 benchmark.
        Response acc = leaseOwn(m1, "jobs-match", "match-m1");
        assertThat(acc.status()).as(acc.text()).isEqualTo(200);
        JsonNode l = acc.json();
        assertThat(l.path("kind").asString()).isEqualTo("accuracy");
        assertThat(l.path("runtime").asString()).isEqualTo("reference-cpu");
        assertThat(l.path("attempt").asInt()).isEqualTo(1);
        assertThat(l.path("artifact").path("url").asString()).isEqualTo("/api/v1/blobs/" + l.path("artifact").path("digest").asString());
        assertThat(l.path("goldenInputs").path("digest").asString()).startsWith("sha256:");
        assertThat(l.path("goldenOutputs").path("size").asLong()).isPositive();
        assertThat(l.path("model").asString()).isEqualTo("jobs-match");
        assertThat(l.path("variant").path("chip").asString()).isEqualTo("M3");
        consumeForeign(m1, "jobs-match", "match-m1");

        String m3 = registerAgent("match-m3", "M3", List.of("coreml"));
        assertThat(jobs("jobs-match", v).get(0).path("waitingFor").isNull()).isTrue();
        List<String> units = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            JsonNode b = lease(m3).json();
            assertThat(b.path("kind").asString()).isEqualTo("benchmark");
            assertThat(b.path("protocol").path("timedIterations").asInt()).isEqualTo(100);
            units.add(b.path("computeUnits").asString());
        }
        assertThat(units).containsExactlyInAnyOrder("cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all");
        assertThat(lease(m3).status()).isEqualTo(204);
        JsonNode leased = jobs("jobs-match", v);
        assertThat(leased).allMatch(j -> j.path("state").asString().equals("leased"));
        assertThat(leased.get(4).path("leasedBy").asString()).isEqualTo("match-m1");

        JsonNode agents = get("/api/v1/agents", reader()).json();
        JsonNode self = null;
        for (JsonNode a : agents) if (a.path("hostName").asString().equals("match-m3")) self = a;
        assertThat(self).isNotNull();
        assertThat(self.path("state").asString()).isEqualTo("online");
        assertThat(self.path("osBuild").asString()).isEqualTo("24B83");
        assertThat(self.path("runtimes").get(0).asString()).isEqualTo("coreml");
        // Re-registering the host keeps its id.
        assertThat(registerAgent("match-m3", "M3", List.of("coreml"))).isEqualTo(m3);
    }

    @Test
    void anExpiredLeaseReturnsTheJobAndAttemptsAreCapped() throws Exception {
        int v = modelWithVariant("jobs-expiry", "M4", List.of("all"));
        setGolden("jobs-expiry", v);
        String first = registerAgent("expiry-1", "M4", List.of("coreml"));
        String second = registerAgent("expiry-2", "M4", List.of("coreml"));
        JsonNode l1 = lease(first).json();
        assertThat(l1.path("attempt").asInt()).isEqualTo(1);
        assertThat(lease(second).status()).isEqualTo(204);
        Thread.sleep(2300); // lease-duration is 2s in tests
        JsonNode l2 = lease(second).json();
        assertThat(l2.path("jobId").asLong()).isEqualTo(l1.path("jobId").asLong());
        assertThat(l2.path("attempt").asInt()).isEqualTo(2);
        // The first agent lost it: heartbeat says so, its report is refused.
        JsonNode ack = send("POST", "/api/v1/agents/" + first + "/heartbeat", agentToken(),
                Map.of("leaseIds", List.of(l1.path("leaseId").asString()))).json();
        assertThat(ack.path("lostLeaseIds").get(0).asString()).isEqualTo(l1.path("leaseId").asString());
        Response late = report(first, l1, validReport(l1, "expiry-1"));
        assertThat(late.status()).as(late.text()).isEqualTo(403);
        assertThat(late.problem()).isEqualTo("lease-not-held");
        // The holder's heartbeat keeps it alive past the original expiry.
        for (int i = 0; i < 3; i++) {
            Thread.sleep(700);
            JsonNode ok = send("POST", "/api/v1/agents/" + second + "/heartbeat", agentToken(),
                    Map.of("leaseIds", List.of(l2.path("leaseId").asString()))).json();
            assertThat(ok.path("lostLeaseIds")).isEmpty();
        }
        assertThat(lease(first).status()).isEqualTo(204);
        // Third and last attempt expires: the job fails with the reason.
        Thread.sleep(2300);
        JsonNode l3 = lease(first).json();
        assertThat(l3.path("attempt").asInt()).isEqualTo(3);
        Thread.sleep(2600);
        JsonNode job = jobs("jobs-expiry", v).get(0);
        assertThat(job.path("state").asString()).isEqualTo("failed");
        assertThat(job.path("failureReason").asString())
                .isEqualTo("lease expired on attempt 3 of 3 (agent expiry-1 sent no result); attempts exhausted");
        // who held each attempt, though the next lease took the job's holder over (leases are not audited)
        List<String> expired = new java.util.ArrayList<>();
        job.path("expiredLeases").forEach(e -> {
            assertThat(e.path("expiredAt").asString()).isNotEmpty();
            expired.add(e.path("attempt").asInt() + ":" + e.path("agent").asString());
        });
        assertThat(expired).containsExactly("1:expiry-1", "2:expiry-2", "3:expiry-1");
        assertThat(lease(second).status()).isEqualTo(204);
        // Last, because its 70 000 ids take a while on a loaded machine and the 2 s leases above must not
        // expire while it runs. A heartbeat names the leases an agent holds: a flood of ids is a 400, not a query past PostgreSQL's limits.
        List<String> flood = new java.util.ArrayList<>();
        for (int i = 0; i < 70_000; i++) flood.add(java.util.UUID.randomUUID().toString());
        Response tooMany = send("POST", "/api/v1/agents/" + second + "/heartbeat", agentToken(), Map.of("leaseIds", flood));
        assertThat(tooMany.status()).as(tooMany.text()).isEqualTo(400);
        assertThat(tooMany.problem()).isEqualTo("invalid-heartbeat");
    }

    @Test
    void onlyTheLeaseHolderMayReportAndReportsAreIdempotent() {
        int v = modelWithVariant("jobs-holder", "A17_PRO", List.of("cpuAndNeuralEngine"));
        setGolden("jobs-holder", v);
        String holder = registerAgent("holder", "A17_PRO", List.of("coreml"));
        String other = registerAgent("not-holder", "A17_PRO", List.of("coreml"));
        JsonNode l = lease(holder).json();

        Response stranger = report(other, l, validReport(l, "not-holder"));
        assertThat(stranger.status()).isEqualTo(403);
        assertThat(stranger.problem()).isEqualTo("lease-not-held");
        // Another token may not act as this agent at all.
        Response foreign = send("POST", "/api/v1/agents/" + holder + "/jobs/" + l.path("jobId").asLong() + "/result",
                token("admin").equals(ADMIN) ? mintAgentToken("foreign-agent") : null, validReport(l, "holder"));
        assertThat(foreign.status()).isEqualTo(403);
        assertThat(foreign.problem()).isEqualTo("not-your-agent");

        Response ok = report(holder, l, validReport(l, "holder"));
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        Response again = report(holder, l, validReport(l, "holder"));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json()).isEqualTo(ok.json());

        JsonNode results = results("jobs-holder", v);
        assertThat(results).hasSize(1);
        JsonNode r = results.get(0);
        assertThat(r).as("the 201 answer is what the results listing reads back").isEqualTo(ok.json());
        assertThat(r.path("outcome").asString()).isEqualTo("succeeded");
        assertThat(r.path("attempt").asInt()).isEqualTo(1);
        assertThat(r.path("provenance").path("hostName").asString()).isEqualTo("holder");
        assertThat(r.path("provenance").path("osBuild").asString()).isEqualTo("24B83");
        assertThat(r.path("provenance").path("runtime").asString()).isEqualTo("coreml");
        assertThat(r.path("provenance").path("runtimeVersion").asString()).isEqualTo("24B83");
        assertThat(r.path("provenance").path("computeUnits").asString()).isEqualTo("cpuAndNeuralEngine");
        assertThat(r.path("protocol").path("timedIterations").asInt()).isEqualTo(100);
        assertThat(r.path("benchmark").path("latency").path("p99Ms").asDouble()).isEqualTo(2.0);
        assertThat(r.path("fidelity").path("last_hidden_state").path("cosineMin").asDouble()).isEqualTo(0.9999);
        assertThat(r.path("cosineMin").asDouble()).isEqualTo(0.9999);
        assertThat(jobs("jobs-holder", v).get(0).path("state").asString()).isEqualTo("succeeded");

        // Leases and reports check the agent against a cached identity: an admin's handover to another
        // token must move the agent to that token at once, not after the cache expires.
        Response minted = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", "holder-rotated", "role", "agent"));
        String rotated = minted.json().path("token").asString();
        Response handed = send("PUT", "/api/v1/agents/" + holder + "/token", ADMIN,
                Map.of("tokenId", minted.json().path("id").asLong()));
        assertThat(handed.status()).as(handed.text()).isEqualTo(200);
        assertThat(registerAgent("holder", "A17_PRO", List.of("coreml"), rotated)).isEqualTo(holder);
        Response oldToken = send("POST", "/api/v1/agents/" + holder + "/lease", agentToken(), null);
        assertThat(oldToken.status()).isEqualTo(403);
        assertThat(oldToken.problem()).isEqualTo("not-your-agent");
        assertThat(send("POST", "/api/v1/agents/" + holder + "/lease", rotated, null).status()).isIn(200, 204);
    }

    /**
     * Golden data format negotiation (V26): the registry reads the format of a version's golden blobs when they are
     * set and leases its jobs only to agents that read it. An agent that does not say (from before it was sent) reads
     * format 1: a format 2 version's jobs wait for it, pending, instead of failing on it; it still takes format 1
     * jobs; registering again saying 2 gets it the job. A blob that is not golden data is refused and nothing changes.
     */
    @Test
    void jobsGoOnlyToAgentsThatReadTheirGoldenDataFormat() throws Exception {
        int v2 = modelWithVariant("jobs-format-2", "A15", List.of("all"));
        int v1 = modelWithVariant("jobs-format-1", "A15", List.of("all"));
        Response old = sendRegistration("format-host", "A15", List.of("coreml"), agentToken(), null);
        assertThat(old.status()).as(old.text()).isEqualTo(200);
        String agent = old.json().path("id").asString();
        consumeForeign(agent, "jobs-format-2", "format-host");

        // Not golden data: refused naming the blob and the fix; the version still has none.
        String zip = upload(mlpackage("jobs-format-2"));
        Response wrong = send("PUT", "/api/v1/models/jobs-format-2/versions/" + v2 + "/golden", publisher(),
                Map.of("inputs", zip, "outputs", upload(goldenBlob("last_hidden_state", 1f))));
        assertThat(wrong.status()).as(wrong.text()).isEqualTo(422);
        assertThat(wrong.json().path("type").asString()).endsWith("/not-golden-data");
        assertThat(wrong.json().path("detail").asString()).contains("golden inputs blob " + zip)
                .contains("not a golden-outputs blob").contains("./aneforge convert");
        assertThat(jobs("jobs-format-2", v2).get(0).path("waitingFor").asString()).startsWith("golden inputs and outputs");

        setGolden("jobs-format-2", v2, 2);
        setGolden("jobs-format-1", v1, 1);
        assertThat(goldenFormatOfModel("jobs-format-2")).isEqualTo(2);
        // The format 1 agent takes the format 1 version's job and never the format 2 one.
        JsonNode l1 = leaseOwn(agent, "jobs-format-1", "format-host").json();
        assertThat(l1.path("variant").path("chip").asString()).isEqualTo("A15");
        assertThat(report(agent, l1, Map.of("leaseId", l1.path("leaseId").asString(), "outcome", "failed",
                "failure", "test")).status()).isEqualTo(201);
        consumeForeign(agent, "jobs-format-2", "format-host");
        assertThat(waitingForWithOnlyThisAgentOnline("jobs-format-2", v2, "A15", agent))
                .contains("golden data is format 2").contains("read format 1 at most")
                .contains("upgrade those device agents");

        // The agent says on a heartbeat that it reads format 2 (an agent upgraded before the registry migrated, say):
        // recorded, and the job is leased to it; re-registering says the same.
        Response beat = send("POST", "/api/v1/agents/" + agent + "/heartbeat", agentToken(),
                Map.of("leaseIds", List.of(), "goldenFormat", 2));
        assertThat(beat.status()).as(beat.text()).isEqualTo(200);
        assertThat(goldenFormatOf("format-host")).isEqualTo(2);
        Response upgraded = sendRegistration("format-host", "A15", List.of("coreml"), agentToken(), 2);
        assertThat(upgraded.json().path("id").asString()).isEqualTo(agent);
        assertThat(goldenFormatOf("format-host")).isEqualTo(2);
        Response badBeat = send("POST", "/api/v1/agents/" + agent + "/heartbeat", agentToken(),
                Map.of("leaseIds", List.of(), "goldenFormat", 0));
        assertThat(badBeat.status()).isEqualTo(400);
        assertThat(goldenFormatOf("format-host")).isEqualTo(2);
        JsonNode l2 = leaseOwn(agent, "jobs-format-2", "format-host").json();
        assertThat(l2.path("model").asString()).isEqualTo("jobs-format-2");
        // Finished, so that no other test's A15 agent leases it later.
        assertThat(report(agent, l2, Map.of("leaseId", l2.path("leaseId").asString(), "outcome", "failed",
                "failure", "test")).status()).isEqualTo(201);

        Response invalid = sendRegistration("format-host", "A15", List.of("coreml"), agentToken(), 0);
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().path("detail").asString()).contains("goldenFormat must be");
    }

    /**
     * Golden format 3 (vocabulary-sized logits held at some positions): an agent that reads format 2 (this registry's
     * agents of the previous release) is never handed such a version's jobs, which wait saying so and naming the
     * setting that writes what it reads; once it says it reads 3 it gets them, and the positions its comparison
     * covered are kept with the result (and must add up to its position count).
     */
    @Test
    @SuppressWarnings("unchecked")
    void formatThreeJobsGoOnlyToAgentsThatReadFormatThree() throws Exception {
        int v = modelWithVariant("jobs-format-3", "A15", List.of("all"));
        Response registered = sendRegistration("format3-host", "A15", List.of("coreml"), agentToken(), 2);
        assertThat(registered.status()).as(registered.text()).isEqualTo(200);
        String agent = registered.json().path("id").asString();
        setGolden("jobs-format-3", v, 3);
        assertThat(goldenFormatOfModel("jobs-format-3")).isEqualTo(3);
        consumeForeign(agent, "jobs-format-3", "format3-host"); // fails if a job of jobs-format-3 is leased
        assertThat(waitingForWithOnlyThisAgentOnline("jobs-format-3", v, "A15", agent))
                .contains("golden data is format 3").contains("read format 2 at most")
                .contains("ANEFORGE_GOLDEN_FORMAT=2");

        Response beat = send("POST", "/api/v1/agents/" + agent + "/heartbeat", agentToken(),
                Map.of("leaseIds", List.of(), "goldenFormat", 3));
        assertThat(beat.status()).as(beat.text()).isEqualTo(200);
        JsonNode l = leaseOwn(agent, "jobs-format-3", "format3-host").json();
        assertThat(l.path("model").asString()).isEqualTo("jobs-format-3");
        Map<String, Object> body = validReport(l, "format3-host");
        Map<String, Object> logits = new java.util.LinkedHashMap<>(
                (Map<String, Object>) ((Map<String, Object>) body.get("fidelity")).get("last_hidden_state"));
        logits.put("positions", 3);
        logits.put("top1Agreement", 1.0);
        logits.put("comparedPositions", Map.of("sample-00", List.of(9), "sample-04", List.of(7, 12)));
        body.put("fidelity", Map.of("logits", logits));
        Map<String, Object> wrongCount = new java.util.LinkedHashMap<>(body);
        Map<String, Object> miscounted = new java.util.LinkedHashMap<>(logits);
        miscounted.put("positions", 4);
        wrongCount.put("fidelity", Map.of("logits", miscounted));
        Response refused = report(agent, l, wrongCount);
        assertThat(refused.status()).as(refused.text()).isEqualTo(400);
        assertThat(refused.json().path("detail").asString()).contains("fidelity.logits.comparedPositions")
                .contains("lists 3 positions, but positions says 4");
        // per sample strictly ascending, each listed once, each a sequence position (below VariantSpec.MAX_SEQ_LEN)
        Map<List<Integer>, String> badLists = new java.util.LinkedHashMap<>();
        badLists.put(List.of(12, 7), "positions must be strictly ascending, each listed once (as the golden data holds"
                + " them), got 7 after 12");
        badLists.put(List.of(7, 7), "got 7 after 7");
        badLists.put(List.of(7, 8192), "positions must be sequence positions 0..8191, got 8192");
        for (Map.Entry<List<Integer>, String> bad : badLists.entrySet()) {
            Map<String, Object> badLogits = new java.util.LinkedHashMap<>(logits);
            badLogits.put("comparedPositions", Map.of("sample-00", List.of(9), "sample-04", bad.getKey()));
            Map<String, Object> badBody = new java.util.LinkedHashMap<>(body);
            badBody.put("fidelity", Map.of("logits", badLogits));
            Response r = report(agent, l, badBody);
            assertThat(r.status()).as(bad.getKey() + ": " + r.text()).isEqualTo(400);
            assertThat(r.json().path("detail").asString()).as(bad.getKey().toString())
                    .contains("fidelity.logits.comparedPositions.sample-04").contains(bad.getValue());
        }
        Response ok = report(agent, l, body);
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        JsonNode result = null;
        for (JsonNode r : results("jobs-format-3", v)) {
            if (r.path("jobId").asLong() == l.path("jobId").asLong()) result = r;
        }
        assertThat(result).isNotNull();
        JsonNode compared = result.path("fidelity").path("logits").path("comparedPositions");
        assertThat(compared.path("sample-00").get(0).asInt()).isEqualTo(9);
        assertThat(compared.path("sample-04").size()).isEqualTo(2);
    }

    /** review-r21: an empty blob, or one shorter than the 8-byte header, is not golden data (422), never a 500. */
    @Test
    void goldenBlobsShorterThanTheHeaderAreNotGoldenData() {
        createModel("jobs-short-golden");
        int v = createVersion("jobs-short-golden");
        String outputs = upload(goldenBlob("last_hidden_state", 1f));
        for (byte[] bytes : List.of(new byte[0], new byte[] {'A', 'F', 'G', 'O', 2})) {
            Response r = send("PUT", "/api/v1/models/jobs-short-golden/versions/" + v + "/golden", publisher(),
                    Map.of("inputs", upload(bytes), "outputs", outputs));
            assertThat(r.status()).as(r.text()).isEqualTo(422);
            assertThat(r.json().path("type").asString()).endsWith("/not-golden-data");
            assertThat(r.json().path("detail").asString()).contains("holds " + bytes.length + " bytes");
        }
    }

    private int goldenFormatOf(String host) {
        for (JsonNode a : get("/api/v1/agents", reader()).json()) {
            if (a.path("hostName").asString().equals(host)) return a.path("goldenFormat").asInt();
        }
        throw new AssertionError("no agent " + host);
    }

    /** Uploads golden inputs and outputs written in format {@code version} and sets them on the draft. */
    private void setGolden(String model, int version, int format) throws java.io.IOException {
        String[] digests = new String[2];
        String[] names = {"input_ids", "last_hidden_state"};
        for (int i = 0; i < 2; i++) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            io.aneforge.eval.golden.GoldenOutputsCodec.write(new io.aneforge.eval.GoldenOutputs(List.of(
                    io.aneforge.eval.GoldenOutputs.Sample.of("0", Map.of(names[i], new io.aneforge.tensor.FloatTensor(
                            new int[] {1, 1, 4}, new float[] {101, 7, 0, 0}))))), out, format);
            digests[i] = upload(out.toByteArray());
        }
        Response r = send("PUT", "/api/v1/models/" + model + "/versions/" + version + "/golden", publisher(),
                Map.of("inputs", digests[0], "outputs", digests[1]));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
    }

    /**
     * The next lease of one of {@code model}'s jobs: another test's job that came back to the queue meanwhile
     * (a lease that ran out after {@link #consumeForeign}) is consumed like the leftovers there.
     */
    private Response leaseOwn(String agent, String model, String host) {
        for (int i = 0; i < 50; i++) {
            Response r = lease(agent);
            if (r.status() != 200 || r.json().path("model").asString().equals(model)) return r;
            JsonNode l = r.json();
            assertThat(report(agent, l, Map.of("leaseId", l.path("leaseId").asString(), "outcome", "failed",
                    "failure", "consumed by " + host)).status()).isEqualTo(201);
        }
        throw new AssertionError("no job of " + model + " in 50 leases");
    }

    /** The golden data format the registry read from {@code model}'s (one) version's blobs. */
    private int goldenFormatOfModel(String model) {
        return jdbc.sql("SELECT golden_format FROM model_version mv JOIN model m ON m.id = mv.model_id WHERE m.name = ?")
                .param(model).query(Integer.class).single();
    }

    /**
     * The {@code waitingFor} of the version's first job, which must be pending, as the jobs list shows it while
     * {@code agent} is the only online agent on {@code chip}: it speaks of that agent alone. Other tests' agents on the
     * chip (this JVM's tests share one registry, and every chip in the catalog is some test's) are marked draining
     * meanwhile, straight in the database so that no audit event is recorded and no agent is marked as heard from, and
     * put back afterwards. Test classes run one at a time, so none of them is using its agents then.
     */
    private String waitingForWithOnlyThisAgentOnline(String model, int version, String chip, String agent) {
        List<java.util.UUID> others = jdbc.sql("UPDATE agent SET draining = true WHERE chip = ? AND id <> ? AND NOT draining"
                        + " RETURNING id").params(chip, java.util.UUID.fromString(agent)).query(java.util.UUID.class).list();
        try {
            JsonNode job = jobs(model, version).get(0);
            assertThat(job.path("state").asString()).isEqualTo("pending");
            return job.path("waitingFor").asString();
        } finally {
            jdbc.sql("UPDATE agent SET draining = false WHERE id = ANY(?)").param(others.toArray(java.util.UUID[]::new))
                    .update();
        }
    }

    /** Leases until the queue is empty for this agent, failing other tests' leftovers; none may belong to {@code model}. */
    private void consumeForeign(String agent, String model, String host) {
        for (Response r = lease(agent); r.status() == 200; r = lease(agent)) {
            JsonNode l = r.json();
            assertThat(l.path("model").asString()).as("a job of " + model + " was leasable").isNotEqualTo(model);
            assertThat(report(agent, l, Map.of("leaseId", l.path("leaseId").asString(), "outcome", "failed",
                    "failure", "consumed by " + host)).status()).isEqualTo(201);
        }
    }

    private String mintAgentToken(String name) {
        Response minted = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", name, "role", "agent"));
        assertThat(minted.status()).isEqualTo(201);
        return minted.json().path("token").asString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> sub(Map<String, Object> m, String... path) {
        Map<String, Object> cur = m;
        for (String p : path) cur = (Map<String, Object>) cur.get(p);
        return cur;
    }

    @Test
    void malformedOrOutOfRangeResultsAreRefusedAndNothingIsStored() {
        int v = modelWithVariant("jobs-strict", "M2", List.of("cpuOnly"));
        setGolden("jobs-strict", v);
        String agent = registerAgent("strict", "M2", List.of("coreml"));
        JsonNode l = lease(agent).json();
        assertThat(l.path("kind").asString()).isEqualTo("benchmark");

        Map<String, Consumer<Map<String, Object>>> breakages = new java.util.LinkedHashMap<>();
        breakages.put("benchmark.latency.minMs", r -> sub(r, "benchmark", "latency").put("minMs", -0.5));
        breakages.put("benchmark.latency", r -> sub(r, "benchmark", "latency").put("p50Ms", 1.8));
        breakages.put("benchmark.loadMs", r -> sub(r, "benchmark").put("loadMs", "NaN"));
        breakages.put("benchmark.latency.n", r -> sub(r, "benchmark", "latency").put("n", 101));
        breakages.put("fidelity.last_hidden_state.cosineMean", r -> fidelity(r).put("cosineMean", 1.5));
        breakages.put("fidelity.last_hidden_state.cosineMin", r -> fidelity(r).put("cosineMin", "NaN"));
        breakages.put("fidelity.last_hidden_state.cosinePooled", r -> fidelity(r).put("cosinePooled", -1.01));
        breakages.put("fidelity.last_hidden_state.meanAbsError", r -> fidelity(r).put("meanAbsError", 0.5));
        breakages.put("fidelity.last_hidden_state.psnrDb", r -> fidelity(r).put("psnrDb", "Infinity"));
        breakages.put("fidelity", r -> r.remove("fidelity"));
        breakages.put("provenance.hostName", r -> sub(r, "provenance").put("hostName", "someone-else"));
        breakages.put("provenance.computeUnits", r -> sub(r, "provenance").put("computeUnits", "all"));
        breakages.put("provenance.artifactDigest", r -> sub(r, "provenance").put("artifactDigest", "sha256:" + "0".repeat(64)));
        breakages.put("outcome", r -> r.put("outcome", "great"));
        // numbers are traced to the agent's registered chip and measured with at least the job's protocol
        breakages.put("provenance.chip", r -> sub(r, "provenance").put("chip", "M4"));
        breakages.put("protocol.timedIterations", r -> {
            r.put("protocol", Map.of("warmupIterations", 10, "timedIterations", 1, "maxDurationMs", 300000));
            sub(r, "benchmark", "latency").put("n", 1);
        });
        breakages.put("protocol.warmupIterations", r -> r.put("protocol",
                Map.of("warmupIterations", 0, "timedIterations", 100, "maxDurationMs", 300000)));
        breakages.put("protocol.maxDurationMs", r -> r.put("protocol",
                Map.of("warmupIterations", 10, "timedIterations", 100, "maxDurationMs", 1)));
        for (Map.Entry<String, Consumer<Map<String, Object>>> b : breakages.entrySet()) {
            Map<String, Object> body = deepCopy(validReport(l, "strict"));
            b.getValue().accept(body);
            Response r = report(agent, l, body);
            assertThat(r.status()).as(b.getKey() + " -> " + r.text()).isEqualTo(400);
            if (r.problem().equals("invalid-result")) {
                assertThat(r.json().path("field").asString()).as(b.getKey()).isEqualTo(b.getKey());
                assertThat(r.json().path("detail").asString()).contains("nothing was stored");
            } else {
                // Jackson refused the document before validation (e.g. a non-numeric token).
                assertThat(r.problem()).as(b.getKey()).isEqualTo("invalid-request");
            }
        }
        Response bareNaN = send("POST", "/api/v1/agents/" + agent + "/jobs/" + l.path("jobId").asLong() + "/result",
                agentToken(), "{\"leaseId\":\"" + l.path("leaseId").asString() + "\",\"outcome\":\"succeeded\","
                        + "\"fidelity\":{\"x\":{\"cosineMean\":NaN}}}");
        assertThat(bareNaN.status()).isEqualTo(400);
        assertThat(results("jobs-strict", v)).isEmpty();
        assertThat(jdbc.sql("SELECT count(*) FROM job_result r JOIN job j ON j.id = r.job_id JOIN variant v ON v.id = j.variant_id"
                + " JOIN model_version mv ON mv.id = v.version_id JOIN model m ON m.id = mv.model_id WHERE m.name = 'jobs-strict'")
                .query(Long.class).single()).isZero();
        assertThat(jobs("jobs-strict", v).get(0).path("state").asString()).isEqualTo("leased");
        assertThat(report(agent, l, validReport(l, "strict")).status()).isEqualTo(201);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fidelity(Map<String, Object> r) {
        return (Map<String, Object>) ((Map<String, Object>) r.get("fidelity")).get("last_hidden_state");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> deepCopy(Map<String, Object> m) {
        Map<String, Object> c = new java.util.LinkedHashMap<>();
        m.forEach((k, v) -> c.put(k, v instanceof Map<?, ?> sub ? deepCopy((Map<String, Object>) sub) : v));
        return c;
    }

    @Test
    void aFailedReportFailsTheJobAndReleaseAndDrainHandJobsBack() {
        int v = modelWithVariant("jobs-release", "A16", List.of("cpuOnly", "all"));
        String agent = registerAgent("releaser", "A16", List.of("coreml"));
        // Other tests' leftovers on A16 are older, so leased first; none of ours is ready yet.
        consumeForeign(agent, "jobs-release", "releaser");
        setGolden("jobs-release", v);
        JsonNode l = leaseOwn(agent, "jobs-release", "releaser").json();
        assertThat(l.path("model").asString()).isEqualTo("jobs-release");
        Response rel = send("POST", "/api/v1/agents/" + agent + "/jobs/" + l.path("jobId").asLong() + "/release",
                agentToken(), Map.of("leaseId", l.path("leaseId").asString(), "reason", "draining"));
        assertThat(rel.status()).as(rel.text()).isEqualTo(200);
        assertThat(rel.json().path("outcome").asString()).isEqualTo("released");
        assertThat(rel.json().path("handBacks").asInt()).as("a release without trouble is not counted").isZero();
        // The leased job by its id: the version has one job per compute unit, and the lease skips a row another
        // transaction holds locked, so the first job listed need not be the one leased.
        JsonNode job = job("jobs-release", v, l.path("jobId").asLong());
        assertThat(job.path("state").asString()).isEqualTo("pending");
        assertThat(job.path("attempts").asInt()).as("a release spends no attempt").isZero();

        JsonNode again = leaseOwn(agent, "jobs-release", "releaser").json();
        assertThat(again.path("jobId").asLong()).isEqualTo(l.path("jobId").asLong());
        Response failed = report(agent, again, Map.of("leaseId", again.path("leaseId").asString(), "outcome", "failed",
                "failure", "artifact digest mismatch for /api/v1/blobs/x"));
        assertThat(failed.status()).as(failed.text()).isEqualTo(201);
        job = job("jobs-release", v, l.path("jobId").asLong());
        assertThat(job.path("state").asString()).isEqualTo("failed");
        assertThat(job.path("failureReason").asString()).isEqualTo("artifact digest mismatch for /api/v1/blobs/x");

        Response drain = send("POST", "/api/v1/agents/" + agent + "/drain", agentToken(), Map.of("draining", true));
        assertThat(drain.json().path("state").asString()).isEqualTo("draining");
        assertThat(lease(agent).status()).as("a draining agent gets no new job").isEqualTo(204);
        assertThat(send("POST", "/api/v1/agents/" + agent + "/heartbeat", agentToken(), Map.of("leaseIds", List.of()))
                .json().path("draining").asBoolean()).isTrue();
        assertThat(registerAgent("releaser", "A16", List.of("coreml"))).isEqualTo(agent);
        assertThat(lease(agent).status()).as("re-registering ends the drain").isEqualTo(200);
    }

    @Test
    void yankingAVariantOrItsVersionCancelsItsOpenJobs() {
        int v = modelWithVariant("jobs-yank", "M1", List.of("cpuOnly", "all"));
        setGolden("jobs-yank", v);
        String agent = registerAgent("yank-runner", "M1", List.of("coreml"));
        JsonNode l = lease(agent).json();
        assertThat(l.path("model").asString()).isEqualTo("jobs-yank");
        long variant = l.path("variant").path("id").asLong();

        Response yank = send("POST", "/api/v1/models/jobs-yank/versions/" + v + "/variants/" + variant + "/yank",
                publisher(), Map.of("reason", "bad weights"));
        assertThat(yank.status()).as(yank.text()).isEqualTo(200);
        JsonNode jobs = jobs("jobs-yank", v);
        assertThat(jobs).isNotEmpty().allSatisfy(j -> {
            assertThat(j.path("state").asString()).isEqualTo("cancelled");
            assertThat(j.path("failureReason").asString()).contains("was yanked (bad weights)");
            assertThat(j.path("leasedBy").isNull()).isTrue();
        });
        // The holder learns it lost the lease, and its report is refused.
        JsonNode ack = send("POST", "/api/v1/agents/" + agent + "/heartbeat", agentToken(),
                Map.of("leaseIds", List.of(l.path("leaseId").asString()))).json();
        assertThat(ack.path("lostLeaseIds").get(0).asString()).isEqualTo(l.path("leaseId").asString());
        Response late = report(agent, l, validReport(l, "yank-runner"));
        assertThat(late.status()).isEqualTo(403);
        assertThat(late.problem()).isEqualTo("lease-not-held");
        assertThat(results("jobs-yank", v)).isEmpty();

        // A whole version: every variant's open jobs.
        int w = modelWithVariant("jobs-yank-version", "M1", List.of("cpuOnly"));
        setGolden("jobs-yank-version", w);
        assertThat(jobs("jobs-yank-version", w)).allMatch(j -> j.path("state").asString().equals("pending"));
        Response yankVersion = send("POST", "/api/v1/models/jobs-yank-version/versions/" + w + "/yank", publisher(),
                Map.of("reason", "superseded"));
        assertThat(yankVersion.status()).as(yankVersion.text()).isEqualTo(200);
        assertThat(jobs("jobs-yank-version", w)).isNotEmpty()
                .allMatch(j -> j.path("state").asString().equals("cancelled")
                        && j.path("failureReason").asString().contains("version " + w + " of jobs-yank-version was yanked"));
        for (Response r = lease(agent); r.status() == 200; r = lease(agent)) {
            assertThat(r.json().path("model").asString()).as("a cancelled job was leased").doesNotStartWith("jobs-yank");
            report(agent, r.json(), Map.of("leaseId", r.json().path("leaseId").asString(), "outcome", "failed",
                    "failure", "consumed by the yank test"));
        }
    }

    @Test
    void leasesJobsAndResultsNameTheVariantsQuantization() {
        createModel("jobs-affine");
        int v = createVersion("jobs-affine");
        Response reg = send("POST", "/api/v1/models/jobs-affine/versions/" + v + "/variants", publisher(),
                Map.of("chip", "A14", "deploymentTarget", "18.0", "layout", "ane", "precision", "int4", "blockSize", 32,
                        "quantization", "affine", "seqLen", 128, "digest", upload(mlpackage("jobs-affine")),
                        "computeUnits", List.of("all")));
        assertThat(reg.status()).as(reg.text()).isEqualTo(201);
        setGolden("jobs-affine", v);
        assertThat(jobs("jobs-affine", v)).isNotEmpty().allSatisfy(j -> {
            assertThat(j.path("precision").asString()).isEqualTo("int4");
            assertThat(j.path("blockSize").asInt()).isEqualTo(32);
            assertThat(j.path("quantization").asString()).isEqualTo("affine");
        });
        String agent = registerAgent("affine-runner", "A14", List.of("coreml"));
        JsonNode l = leaseOwn(agent, "jobs-affine", "affine-runner").json(); // other tests may leave A14 jobs
        assertThat(l.path("variant").path("quantization").asString()).isEqualTo("affine");
        assertThat(l.path("variant").path("blockSize").asInt()).isEqualTo(32);
        Response ok = report(agent, l, validReport(l, "affine-runner"));
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        assertThat(ok.json().path("quantization").asString()).isEqualTo("affine");
        assertThat(results("jobs-affine", v).get(0)).isEqualTo(ok.json());
    }
}

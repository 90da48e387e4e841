package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.hub.FakeHub;
import io.aneforge.testsupport.models.TinyModels;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * Trouble between the worker and the registry or the Hub that is not the conversion's fault does not fail it:
 * the worker talks to the real registry through a {@link FaultProxy} that answers 503, closes connections and
 * loses answers after the registry applied the request, and the FakeHub corrupts one download.
 */
class TransientFailureTest {

    private static final Stack stack = Stack.get();
    private static FaultProxy proxy;
    private static ConfigurableApplicationContext worker;

    @BeforeAll
    static void start() throws Exception {
        proxy = FaultProxy.start(stack.url);
        stack.serve("org/transient-bert", "8888888888888888888888888888888888888888",
                TinyModels.bert(stack.root.resolve("transient-bert"), 21));
        worker = stack.startWorker("e2e-transient", 2, Map.of("ANEFORGE_REGISTRY_URL", proxy.url(),
                "ANEFORGE_WORKER_RETRIES", "3", "ANEFORGE_WORKER_RETRY_BACKOFF", "50ms"));
    }

    @AfterAll
    static void stop() {
        if (worker != null) worker.close();
        if (proxy != null) proxy.close();
    }

    private static JsonNode convert(String model) {
        JsonNode c = stack.publishHub(model, "org/transient-bert", List.of("A14"), 32);
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        return done;
    }

    @Test
    void unavailableRegistryDroppedConnectionsAndLostAnswersAreRetriedAndCountOnce() {
        String conversion = "/api/v1/conversions/\\d+";
        proxy.inject("POST", conversion + "/progress", "\"fetch\"", FaultProxy.Fault.UNAVAILABLE, 2);
        // Applied by the registry, answer lost: the repeat must not count a second build.
        proxy.inject("POST", conversion + "/progress", "\"building\"", FaultProxy.Fault.LOST_ANSWER, 1);
        proxy.inject("PUT", "/api/v1/blobs/sha256:[0-9a-f]+", null, FaultProxy.Fault.DROP, 1);
        proxy.inject("POST", "/api/v1/models/transient-a/versions/\\d+/variants", null, FaultProxy.Fault.LOST_ANSWER, 1);
        proxy.inject("POST", conversion + "/complete", null, FaultProxy.Fault.LOST_ANSWER, 1);

        JsonNode done = convert("transient-a");
        assertThat(proxy.pending()).as("every injected fault happened").isZero();
        assertThat(done.path("attempts").asInt()).as("no attempt lost").isEqualTo(1);
        done.path("variants").forEach(v -> assertThat(v.path("builds").asInt()).as(v.toString()).isEqualTo(1));
        assertThat(stack.get("/api/v1/models/transient-a/versions/" + done.path("version").asInt() + "/variants").size())
                .isEqualTo(done.path("variants").size());
        // The registry shows the conversion succeeded as soon as it applied the first complete; the worker's
        // repeat (its answer was lost) follows.
        String completes = "/api/v1/conversions/" + done.path("id").asLong() + "/complete";
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (proxy.seen("POST", completes).size() < 2 && System.nanoTime() < end) Stack.sleep(50);
        assertThat(proxy.seen("POST", completes)).extracting(FaultProxy.Seen::status)
                .as("the lost answer, then the same answer again").containsExactly(0, 200);
    }

    @Test
    void aRegistryThatStaysUnavailableGetsTheLeaseBackNotAFailedConversion() {
        // More 503s than retries: the finish step fails, the worker hands the lease back (no attempt spent),
        // leases the conversion again and its restarted execution runs only the finish step.
        proxy.inject("POST", "/api/v1/conversions/\\d+/complete", null, FaultProxy.Fault.UNAVAILABLE, 4);

        JsonNode done = convert("transient-b");
        assertThat(done.path("attempts").asInt()).as("the hand-back spent no attempt").isEqualTo(1);
        List<FaultProxy.Seen> releases = proxy.seen("POST", "/api/v1/conversions/" + done.path("id").asLong() + "/release");
        assertThat(releases).extracting(FaultProxy.Seen::status).containsExactly(200);
        assertThat(releases.get(0).body()).contains("\"trouble\":true");
        done.path("variants").forEach(v -> assertThat(v.path("builds").asInt()).as("not rebuilt: " + v).isEqualTo(1));
    }

    /**
     * A call the registry keeps answering 503 through four runs of the finish step: the worker hands the conversion
     * back after each, and the registry counts those hand-backs per conversion and worker. The fourth is past
     * aneforge.conversions.max-hand-backs (3 by default): the registry fails the conversion naming the count, the
     * bound and the last reason instead of taking it back again, and the worker follows.
     */
    @Test
    void theRegistryFailsAConversionHandedBackPastItsBound() throws Exception {
        // A model of its own: uploading its blobs must not keep the other tests here from uploading theirs.
        stack.serve("org/transient-bound", "2626262626262626262626262626262626262626",
                TinyModels.bert(stack.root.resolve("transient-bound"), 26));
        JsonNode c = stack.publishHub("transient-e", "org/transient-bound", List.of("A14"), 32);
        long id = c.path("id").asLong();
        // Four runs of one call each (the call and its 3 retries), all answered 503.
        proxy.inject("POST", "/api/v1/conversions/" + id + "/complete", null, FaultProxy.Fault.UNAVAILABLE, 16);
        JsonNode done = stack.await(id, Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("failed");
        assertThat(done.path("error").asString())
                .startsWith("worker 'e2e-transient' handed conversion " + id + " back 4 times")
                .contains("max-hand-backs allows 3", "the last: the registry stayed unreachable");
        assertThat(proxy.pending()).as("every injected 503 was answered").isZero();
        assertThat(proxy.seen("POST", "/api/v1/conversions/" + id + "/release")).hasSize(4)
                .allSatisfy(s -> assertThat(s.status()).isEqualTo(200));
        assertThat(done.path("attempts").asInt()).as("the hand-backs spent no attempt").isEqualTo(1);
    }

    @Test
    void aLeaseAnswerTheWorkerCannotReadIsReleasedNotLeftToRunOut() throws Exception {
        // The registry grants the lease, a proxy in front of it answers with its maintenance page (200, HTML): the
        // worker learns no lease token. It releases the lease by the request id it sent with the call, so the
        // conversion is leased again at once on the same attempt instead of after its 60 s lease ran out.
        // A model of its own: its blobs must not exist yet for the other tests here (they count blob uploads).
        long start = System.nanoTime();
        JsonNode done = convertThroughALeaseFault("transient-html", "5555555555555555555555555555555555555555", 24,
                "transient-d", FaultProxy.Fault.HTML_PAGE, "the lease answer was replaced");
        assertThat(done.path("attempts").asInt()).as("the unread lease spent no attempt").isEqualTo(1);
        // Only this call's releases: the proxy is shared, and the lost- and late-grant tests release by request too
        // (JUnit's method order put the renamed late-grant test before this one, and its two releases were counted).
        FaultProxy.Seen replaced = proxy.seen("POST", "/api/v1/conversions/lease").stream()
                .filter(s -> s.fault() == FaultProxy.Fault.HTML_PAGE).findFirst().orElseThrow();
        List<FaultProxy.Seen> released = proxy.seen("POST",
                "/api/v1/conversions/lease-requests/" + requestOf(replaced) + "/release");
        assertThat(released).extracting(FaultProxy.Seen::status).containsExactly(200);
        assertThat(released.get(0).body()).contains("\"worker\":\"e2e-transient\"", "could not read the lease answer",
                "Down for maintenance");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("not after the lease ran out")
                .isLessThan(Duration.ofSeconds(60));
    }

    /**
     * Converts a tiny BERT of its own, served as {@code org/<repo>} (so its blobs are new to the registry: other tests
     * here count blob uploads), as model {@code model}, with {@code fault} injected into the next lease call. Returns
     * the conversion, asserted succeeded with the fault spent ({@code spent} says how it was).
     */
    private static JsonNode convertThroughALeaseFault(String repo, String revision, int seed, String model,
            FaultProxy.Fault fault, String spent) throws Exception {
        stack.serve("org/" + repo, revision, TinyModels.bert(stack.root.resolve(repo), seed));
        proxy.inject("POST", "/api/v1/conversions/lease", null, fault, 1);
        long id = stack.publishHub(model, "org/" + repo, List.of("A14"), 32).path("id").asLong();
        JsonNode done = stack.await(id, Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(proxy.pending()).as(spent).isZero();
        return done;
    }

    /** The request id a lease call carried (its body's {@code request}). */
    private static String requestOf(FaultProxy.Seen leaseCall) {
        return Stack.JSON.readTree(leaseCall.body()).path("request").asString();
    }

    /**
     * The registry grants a lease whose answer is lost on the way (the connection closed instead of answered): the
     * worker releases it by the request id it sent with the call, at once, so the conversion is leased again on the
     * same attempt instead of after its 60 s lease ran out.
     */
    @Test
    void aLeaseWhoseAnswerIsLostInTransportIsReleasedByItsRequest() throws Exception {
        JsonNode done = convertThroughALeaseFault("transient-lost", "2727272727272727272727272727272727272727", 27,
                "transient-f", FaultProxy.Fault.LOST_GRANT, "the lease answer was lost");
        long id = done.path("id").asLong();
        FaultProxy.Seen lost = proxy.seen("POST", "/api/v1/conversions/lease").stream()
                .filter(s -> s.fault() == FaultProxy.Fault.LOST_GRANT).findFirst().orElseThrow();
        assertThat(Stack.JSON.readTree(lost.answer()).path("conversion").path("id").asLong()).isEqualTo(id);
        assertThat(proxy.seen("POST", "/api/v1/conversions/lease-requests/" + requestOf(lost) + "/release"))
                .singleElement().satisfies(r -> {
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.answer()).contains("\"outcome\":\"released\"", "\"conversionId\":" + id);
                    assertThat(r.body()).contains("lost the answer to its lease call");
                });
        // One attempt proves the lease did not run out (a wall-clock bound would only measure a loaded machine).
        assertThat(done.path("attempts").asInt()).as("the lost lease spent no attempt").isEqualTo(1);
    }

    /**
     * A lease call that reaches the registry only after the worker gave up on it (its 10 s request timeout) and after
     * its first release by that request came back finding nothing. The registry remembered that release (V15), so it
     * grants the late call nothing (204); the worker's second release, sent once the call's grant window (the request
     * timeout after the failure) closed, finds nothing either, and the conversion is leased by the worker's next call
     * and succeeds on its first attempt. (A registry before V15 granted the late call, and the second release handed
     * that lease back; the worker still sends it for such a registry.)
     */
    @Test
    void aLeaseCallArrivingAfterItsFirstReleaseIsGrantedNothing() throws Exception {
        JsonNode done = convertThroughALeaseFault("transient-late", "2828282828282828282828282828282828282828", 28,
                "transient-g", FaultProxy.Fault.LATE_GRANT, "the lease call was held");
        FaultProxy.Seen late = proxy.seen("POST", "/api/v1/conversions/lease").stream()
                .filter(s -> s.fault() == FaultProxy.Fault.LATE_GRANT).findFirst().orElseThrow();
        assertThat(late.answer()).as("the registry granted the late call nothing (204, no body)").isEmpty();
        List<FaultProxy.Seen> released = proxy.seen("POST",
                "/api/v1/conversions/lease-requests/" + requestOf(late) + "/release");
        assertThat(released).as("the first release before the late call, the second after it").hasSize(2)
                .allSatisfy(r -> assertThat(r.answer()).contains("\"outcome\":\"none\""));
        assertThat(done.path("attempts").asInt()).as("the late call spent no attempt").isEqualTo(1);
    }

    @Test
    void aCorruptedHubDownloadIsDownloadedOnceMore() throws Exception {
        stack.hub.clearRequests();
        java.nio.file.Path model = TinyModels.bert(stack.root.resolve("transient-corrupt"), 22);
        String etag = FakeHub.sha256(java.nio.file.Files.readAllBytes(model.resolve("model.safetensors")));
        stack.serve("org/transient-corrupt", "9999999999999999999999999999999999999999", model);
        stack.hub.fault("model.safetensors", FakeHub.Fault.CORRUPT_BODY);
        JsonNode c = stack.publishHub("transient-c", "org/transient-corrupt", List.of("A14"), 32);
        JsonNode done = stack.await(c.path("id").asLong(), Duration.ofMinutes(3), "succeeded", "failed");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        long downloads = stack.hub.requests().stream()
                .filter(r -> r.server().equals("cdn") && r.method().equals("GET") && r.path().startsWith("/blobs/" + etag))
                .count();
        assertThat(downloads).as("the corrupted download and the good one").isEqualTo(2);
    }
}

package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.aneforge.convert.Golden;
import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.convert.Samples;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.worker.lease.Leases;
import io.aneforge.worker.pipeline.ConversionSteps;
import io.aneforge.worker.pipeline.StandaloneSteps;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import io.aneforge.worker.registry.RegistryModels.Lease;
import io.aneforge.worker.registry.RegistryModels.VersionGolden;
import io.aneforge.worker.workdir.WorkDirs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The golden step of a masked LM's conversion on each attempt, against the real registry (the conversion's
 * {@code versionGolden} as the lease answer carries it): computed on the first attempt; reused on a retry while the
 * version's pair has the inputs the step builds, in the format it stores; computed again, replacing the pair, when the
 * pair is a previous release's (plain samples) or of another golden format. {@code aneforge.worker.golden{result}}
 * tells which; the golden pass runs only when it counts {@code computed}.
 */
class GoldenReuseTest {
    static final int SEQ = 16;
    static final String WORKER = "golden-reuse";

    private final Stack stack = Stack.get();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final Leases leases = mock(Leases.class);

    @Test
    void aRetryReusesTheVersionsPairBuiltOnItsInputsAndReplacesAnyOther() throws Exception {
        Path mlm = TinyModels.maskedLm(stack.root.resolve("golden-reuse-mlm"), 3, HeldPositions.MIN_WIDTH);
        JsonNode published = stack.publish("golden-reuse", Map.of("type", "local", "path", mlm.toString()),
                List.of("A14"), SEQ);
        long id = published.path("id").asLong();
        int version = published.path("version").asInt();
        WorkerProperties props = new WorkerProperties(URI.create(stack.url), stack.workerToken, WORKER, 1,
                stack.root.resolve("work-" + WORKER), Duration.ofMillis(200), false);
        RegistryClient registry = new RegistryClient(props);
        ConversionSteps steps = StandaloneSteps.of(registry, leases, meters, new WorkDirs(props));
        ConversionSteps.Fetched snapshot = new ConversionSteps.Fetched(mlm.toString(), null);

        try {
            // attempt 1: the version has no pair yet
            Lease lease = hold(registry, id);
            assertThat(lease.conversion().versionGolden()).isEqualTo(new VersionGolden(null, null, null));
            String outputs = steps.golden(id, snapshot);
            assertThat(counted()).isEqualTo(Map.of("computed", 1.0, "reused", 0.0));
            Conversion stored = registry.conversion(id);
            VersionGolden pair = stored.versionGolden();
            assertThat(pair.outputsDigest()).isEqualTo("sha256:" + outputs);
            assertThat(pair.format()).as("the logits held at some positions").isEqualTo(3);
            assertThat(stored.goldenDigest()).as("a masked LM's digest is not reported").isNull();

            // attempt 2 (the lease handed back, then taken again): the pair is on the inputs the step builds
            lease = retry(registry, lease);
            assertThat(lease.conversion().versionGolden()).isEqualTo(pair);
            assertThat(steps.golden(id, snapshot)).isEqualTo(outputs);
            assertThat(counted()).as("no golden pass").isEqualTo(Map.of("computed", 1.0, "reused", 1.0));

            // a worker of the previous release stored the pair on the plain samples meanwhile
            ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(mlm, null));
            List<Map<String, FloatTensor>> plain;
            List<Map<String, FloatTensor>> masked;
            try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json"))) {
                plain = Golden.inputs(tok, Samples.fixed(), SEQ);
                masked = Golden.sampleInputs(model, tok, Samples.fixed().size(), SEQ);
            }
            String plainInputs = upload(registry, Golden.samples(plain), 2);
            String plainOutputs = upload(registry, HeldPositions.forStorage(Golden.samples(plain),
                    Golden.fullLength(model, plain, ProgramEvaluator.runtime(1))), 3);
            registry.setGolden("golden-reuse", version, plainInputs, plainOutputs);
            lease = retry(registry, lease);
            assertThat(lease.conversion().versionGolden().inputsDigest()).isEqualTo("sha256:" + plainInputs);
            assertThat(steps.golden(id, snapshot)).isEqualTo(outputs);
            assertThat(counted()).isEqualTo(Map.of("computed", 2.0, "reused", 1.0));
            assertThat(registry.conversion(id).versionGolden()).as("the masked pair again").isEqualTo(pair);

            // the same inputs with outputs in format 2 (every real token: ANEFORGE_GOLDEN_FORMAT=2 on an earlier
            // attempt)
            String everyToken = upload(registry, Golden.fullLength(model, masked, ProgramEvaluator.runtime(1)), 2);
            registry.setGolden("golden-reuse", version, hex(pair.inputsDigest()), everyToken);
            lease = retry(registry, lease);
            assertThat(lease.conversion().versionGolden()).isEqualTo(new VersionGolden(pair.inputsDigest(),
                    "sha256:" + everyToken, 2));
            assertThat(steps.golden(id, snapshot)).isEqualTo(outputs);
            assertThat(counted()).isEqualTo(Map.of("computed", 3.0, "reused", 1.0));
            assertThat(registry.conversion(id).versionGolden()).isEqualTo(pair);
        } finally {
            // No worker of a later test class is to take it up, whether the test passed or stopped anywhere above
            // (leased, or handed back between attempts): a cancel ends a queued or running conversion alike.
            stack.send("POST", "/api/v1/conversions/" + id + "/cancel", stack.publisherToken, null);
        }
        assertThat(stack.get("/api/v1/conversions/" + id).path("state").asString()).as("ended by the cancel")
                .isEqualTo("cancelled");
    }

    /** Leases the conversion as a worker attempt does; the steps read it (and its token) from {@link Leases}. */
    private Lease hold(RegistryClient registry, long id) {
        Lease lease = registry.lease(id, WORKER);
        when(leases.conversion(id)).thenReturn(lease.conversion());
        when(leases.token(id)).thenReturn(lease.leaseToken());
        return lease;
    }

    /** Hands the lease back (as a stopping worker does) and leases the conversion again: the next attempt. */
    private Lease retry(RegistryClient registry, Lease lease) {
        long id = lease.conversion().id();
        registry.release(id, lease.leaseToken(), "the next attempt", false);
        Lease next = hold(registry, id);
        assertThat(next.leaseToken()).isNotEqualTo(lease.leaseToken());
        return next;
    }

    private Map<String, Double> counted() {
        return Map.of("computed", meters.counter("aneforge.worker.golden", "result", "computed").count(),
                "reused", meters.counter("aneforge.worker.golden", "result", "reused").count());
    }

    /** Uploads {@code golden} written as golden format {@code version}; returns its hex digest. */
    private String upload(RegistryClient registry, GoldenOutputs golden, int version) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(golden, out, version);
        byte[] bytes = out.toByteArray();
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        Path file = Files.write(stack.root.resolve("golden-reuse-" + hex + ".bin"), bytes);
        registry.putBlob(hex, file, "application/vnd.aneforge.golden-outputs");
        return hex;
    }

    private static String hex(String digest) {
        return digest.substring("sha256:".length());
    }
}

package io.aneforge.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.aneforge.convert.Golden;
import io.aneforge.convert.MaskedSamples;
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
import io.aneforge.testsupport.models.TinyTokenizers;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.worker.WorkerProperties;
import io.aneforge.worker.lease.Leases;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import io.aneforge.worker.registry.RegistryModels.Progress;
import io.aneforge.worker.registry.RegistryModels.Source;
import io.aneforge.worker.registry.RegistryModels.VersionGolden;
import io.aneforge.worker.workdir.WorkDirs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.ArgumentCaptor;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * The golden step against a stand-in registry. From a registry that sends only {@code goldenDigest} (not the
 * version's pair): a masked LM's outputs are computed again (an earlier release's attempt computed them on the plain
 * samples, which this release's masked inputs must not be paired with), and the bytes stored are those {@code convert}
 * stores ({@code Golden.sampleInputs}, {@code Golden.fullLength}, {@code HeldPositions.forStorage}), and their digest
 * is not reported on the conversion (a previous release's worker would reuse it with plain inputs); an encoder's
 * earlier outputs are still reused, with the inputs every release gave them. A version pair whose outputs blob the
 * registry lacks is computed again; a malformed one too, with a warning; an encoder's reused pair is reported on
 * the conversion unless it already carries that digest. {@code GoldenReuseTest} runs the pair's other cases against
 * the real registry.
 */
class GoldenRetryTest {
    static final int SEQ = 16;

    @TempDir
    Path dir;

    private final Map<String, byte[]> uploaded = new HashMap<>();

    @Test
    void aMaskedLmsEarlierOutputsAreComputedAgainOnTheMaskedSamples() throws Exception {
        Path mlm = TinyModels.maskedLm(dir.resolve("mlm"), 3, HeldPositions.MIN_WIDTH);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(mlm, null));
        byte[] inputs;
        byte[] outputs;
        byte[] plainOutputs; // what the previous release's worker stored for this source
        try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, tok, 32, SEQ);
            inputs = codec(Golden.samples(in));
            outputs = codec(HeldPositions.forStorage(Golden.samples(in), Golden.fullLength(model, in,
                    ProgramEvaluator.runtime(1))));
            List<Map<String, FloatTensor>> plain = Golden.inputs(tok, Samples.fixed(), SEQ);
            plainOutputs = codec(HeldPositions.forStorage(Golden.samples(plain), Golden.fullLength(model, plain,
                    ProgramEvaluator.runtime(1))));
        }
        assertThat(plainOutputs).isNotEqualTo(outputs);

        RegistryClient registry = registry();
        ConversionSteps steps = steps(registry, conversion(1, "sha256:" + sha256(plainOutputs)));
        String hex = steps.golden(1, new ConversionSteps.Fetched(mlm.toString(), null));

        assertThat(hex).as("computed again, not the earlier attempt's").isEqualTo(sha256(outputs));
        assertThat(uploaded).containsOnlyKeys(sha256(inputs), sha256(outputs));
        assertThat(uploaded.get(sha256(outputs))).isEqualTo(outputs);
        assertThat(uploaded.get(sha256(inputs))).isEqualTo(inputs);
        verify(registry).setGolden("m", 1, sha256(inputs), sha256(outputs));
        // only the step's start is reported, without a goldenDigest: a worker of the previous release taking the lease
        // would reuse a reported digest with the plain inputs it builds
        ArgumentCaptor<Progress> progress = ArgumentCaptor.forClass(Progress.class);
        verify(registry, times(1)).progress(eq(1L), progress.capture());
        assertThat(progress.getValue().step()).isEqualTo("golden");
        assertThat(progress.getValue().goldenDigest()).as("a masked LM's digest is not reported").isNull();
    }

    @Test
    void aMaskedLmsFirstAttemptDoesNotReportItsDigestWhileAnEncodersDoes() throws Exception {
        Path mlm = TinyModels.maskedLm(dir.resolve("mlm"), 3, TinyTokenizers.wordPieceVocab().size());
        RegistryClient registry = registry();
        String masked = steps(registry, conversion(3, null)).golden(3, new ConversionSteps.Fetched(mlm.toString(), null));
        Path bert = TinyModels.bert(dir.resolve("bert"), 7);
        String encoder = steps(registry, conversion(4, null)).golden(4, new ConversionSteps.Fetched(bert.toString(), null));

        ArgumentCaptor<Progress> maskedReports = ArgumentCaptor.forClass(Progress.class);
        verify(registry, times(1)).progress(eq(3L), maskedReports.capture());
        assertThat(maskedReports.getValue().goldenDigest()).isNull();
        ArgumentCaptor<Progress> encoderReports = ArgumentCaptor.forClass(Progress.class);
        verify(registry, times(2)).progress(eq(4L), encoderReports.capture());
        assertThat(encoderReports.getAllValues().get(1).goldenDigest()).isEqualTo("sha256:" + encoder);
        assertThat(uploaded).containsKey(masked);
    }

    @Test
    void aMaskedLmWithoutAMaskTokenIsWarnedAboutInOperatorTerms() throws Exception {
        Path mlm = TinyModels.maskedLm(dir.resolve("mlm"), 3, TinyTokenizers.wordPieceVocab().size());
        // the [MASK] entry renamed: no mask token left
        Files.writeString(mlm.resolve("tokenizer.json"), TinyTokenizers.wordPieceJson().replace("\"[MASK]\"",
                "\"[MASK_]\""));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(mlm, null));
        try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json"))) {
            assertThat(MaskedSamples.lacksMaskToken(model, tok)).isTrue();
        }
        assertThat(ConversionSteps.plainSamplesWarning(model)).isEqualTo("the source's tokenizer.json has no mask token"
                + " ([MASK] or <mask>), so the golden data of this fill-mask model is computed on the plain fixed"
                + " samples, and the version's accuracy jobs compare its logits at ordinary tokens, where a masked LM"
                + " mostly predicts the token itself, not at masked ones; the conversion goes on. To measure masked"
                + " tokens, queue a new version (POST /api/v1/models/{name}/versions) from a source whose tokenizer.json"
                + " has the model's mask token as a special added token ([MASK] or <mask>): the Hub revision it was"
                + " trained with, or a local snapshot with that tokenizer.json");
    }

    @Test
    void anEncodersEarlierOutputsAreReused() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 7);
        String earlier = "ab".repeat(32);
        RegistryClient registry = registry();
        ConversionSteps steps = steps(registry, conversion(2, "sha256:" + earlier));
        assertThat(steps.golden(2, new ConversionSteps.Fetched(bert.toString(), null))).isEqualTo(earlier);
        byte[] inputs;
        try (Tokenizer tok = Tokenizer.load(bert.resolve("tokenizer.json"))) {
            inputs = codec(Golden.samples(Golden.inputs(tok, Samples.fixed(), SEQ)));
        }
        assertThat(uploaded).as("the inputs alone").containsOnlyKeys(sha256(inputs));
        verify(registry).setGolden("m", 1, sha256(inputs), earlier);
    }

    /**
     * The version's pair has the inputs the step builds, in the format it stores, but the registry has lost (or never
     * verified) the outputs blob it names: the outputs are computed and stored, and the pair replaced.
     */
    @Test
    void aPairWhoseOutputsBlobTheRegistryLacksIsComputedAgain() throws Exception {
        Path mlm = TinyModels.maskedLm(dir.resolve("mlm"), 3, HeldPositions.MIN_WIDTH);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(mlm, null));
        byte[] inputs;
        byte[] outputs;
        try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, tok, 32, SEQ);
            inputs = codec(Golden.samples(in));
            outputs = codec(Golden.forStorage(model, in, ProgramEvaluator.runtime(1), 0).stored());
        }
        String lost = "cd".repeat(32);
        RegistryClient registry = registry();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Conversion c = conversion(5, null, new VersionGolden("sha256:" + sha256(inputs), "sha256:" + lost, 3));
        String hex = steps(registry, c, meters).golden(5, new ConversionSteps.Fetched(mlm.toString(), null));

        assertThat(hex).isEqualTo(sha256(outputs));
        verify(registry).blobExists(lost);
        assertThat(meters.counter("aneforge.worker.golden", "result", "computed").count()).isEqualTo(1);
        assertThat(meters.counter("aneforge.worker.golden", "result", "reused").count()).isZero();
        assertThat(uploaded).containsOnlyKeys(sha256(inputs), sha256(outputs));
        verify(registry).setGolden("m", 1, sha256(inputs), sha256(outputs));
    }

    /**
     * A version pair whose digests are not {@code sha256:<64 hex>} is not taken for "no pair yet": the worker warns
     * that the registry sent it malformed, computes the outputs and replaces the pair, never asking for such a blob.
     */
    @Test
    @ExtendWith(OutputCaptureExtension.class)
    void aMalformedPairIsComputedAgainSayingTheRegistrySentItMalformed(CapturedOutput output) throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 7);
        RegistryClient registry = registry();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Conversion c = conversion(7, null, new VersionGolden("sha256:" + "ab".repeat(32), "sha256:ABC", 2));
        String hex = steps(registry, c, meters).golden(7, new ConversionSteps.Fetched(bert.toString(), null));

        assertThat(meters.counter("aneforge.worker.golden", "result", "computed").count()).isEqualTo(1);
        assertThat(uploaded).containsKey(hex);
        verify(registry, never()).blobExists("ABC");
        assertThat(output).contains("the registry sent a malformed versionGolden (inputs sha256:" + "ab".repeat(32)
                + ", outputs sha256:ABC; each should be sha256:<64 lowercase hex>)")
                .doesNotContain("no golden pair yet");
    }

    /**
     * An encoder's retry that reuses the version's pair, on a conversion no earlier attempt reported a digest on (a
     * first attempt that stopped after its {@code PUT .../golden}, or a digest a masked LM's attempt left off):
     * the reused digest is reported, so a worker of the previous release, which reads only {@code goldenDigest},
     * reuses it too.
     */
    @Test
    void anEncodersReusedPairIsReportedWhenTheConversionDoesNotCarryItsDigest() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 7);
        String earlier = "ab".repeat(32);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RegistryClient registry = registry();
        List<Progress> reports = reusedEncoderPair(bert, earlier, null, registry, meters);

        assertThat(reports).extracting(Progress::goldenDigest).as("the step's start, then the reused digest")
                .containsExactly(null, "sha256:" + earlier);
        assertThat(meters.counter("aneforge.worker.golden", "result", "reused").count()).isEqualTo(1);
        assertThat(meters.counter("aneforge.worker.golden", "result", "computed").count()).isZero();
    }

    /** The mirror: the conversion already carries the reused digest, so nothing but the step's start is reported. */
    @Test
    void anEncodersReusedPairIsNotReportedAgainWhenTheConversionCarriesItsDigest() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 7);
        String earlier = "ab".repeat(32);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RegistryClient registry = registry();
        List<Progress> reports = reusedEncoderPair(bert, earlier, "sha256:" + earlier, registry, meters);

        assertThat(reports).extracting(Progress::goldenDigest).as("the step's start only")
                .containsExactly((String) null);
        assertThat(meters.counter("aneforge.worker.golden", "result", "reused").count()).isEqualTo(1);
    }

    /**
     * Runs the golden step of the tiny BERT (conversion 6) whose version's pair has the inputs the step builds, the
     * outputs {@code earlierHex} (a blob the registry has) and the format the step stores, the conversion carrying
     * {@code goldenDigest}; checks the pair was reused as it is; returns the conversion's progress reports in order.
     */
    private List<Progress> reusedEncoderPair(Path bert, String earlierHex, String goldenDigest, RegistryClient registry,
                                             SimpleMeterRegistry meters) throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(bert, null));
        byte[] inputs;
        int format;
        try (Tokenizer tok = Tokenizer.load(bert.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, tok, 32, SEQ);
            inputs = codec(Golden.samples(in));
            format = Golden.storedFormat(model, in);
        }
        when(registry.blobExists(earlierHex)).thenReturn(true);
        Conversion c = conversion(6, goldenDigest, new VersionGolden("sha256:" + sha256(inputs), "sha256:" + earlierHex,
                format));

        assertThat(steps(registry, c, meters).golden(6, new ConversionSteps.Fetched(bert.toString(), null)))
                .isEqualTo(earlierHex);
        assertThat(uploaded).as("the inputs alone").containsOnlyKeys(sha256(inputs));
        verify(registry).setGolden("m", 1, sha256(inputs), earlierHex);
        ArgumentCaptor<Progress> progress = ArgumentCaptor.forClass(Progress.class);
        verify(registry, atLeastOnce()).progress(eq(6L), progress.capture());
        return progress.getAllValues();
    }

    private ConversionSteps steps(RegistryClient registry, Conversion c) {
        return steps(registry, c, new SimpleMeterRegistry());
    }

    private ConversionSteps steps(RegistryClient registry, Conversion c, SimpleMeterRegistry meters) {
        Leases leases = mock(Leases.class);
        when(leases.conversion(c.id())).thenReturn(c);
        when(leases.token(c.id())).thenReturn("lease");
        WorkerProperties props = new WorkerProperties(URI.create("http://127.0.0.1:9"), "token", "w1", 1,
                dir.resolve("work"), Duration.ofMillis(50), false);
        return new ConversionSteps(registry, leases, new ModelCache(), meters, null, new WorkDirs(props), null);
    }

    /** A registry that has no blob and keeps what is uploaded. */
    private RegistryClient registry() {
        RegistryClient registry = mock(RegistryClient.class);
        when(registry.blobExists(anyString())).thenReturn(false);
        doAnswer(call -> {
            uploaded.put(call.getArgument(0), Files.readAllBytes(call.getArgument(1)));
            return null;
        }).when(registry).putBlob(anyString(), any(Path.class), anyString());
        when(registry.progress(anyLong(), any())).thenReturn(null);
        return registry;
    }

    /** A conversion from a registry that does not send the version's golden pair (only {@code goldenDigest}). */
    private static Conversion conversion(long id, String goldenDigest) {
        return conversion(id, goldenDigest, null);
    }

    private static Conversion conversion(long id, String goldenDigest, VersionGolden versionGolden) {
        return new Conversion(id, "m", 1, new Source("local", null, null, null, "/snapshot"), "running", "golden",
                List.of("M4"), "default", SEQ, null, null, 2, 3, null, goldenDigest, versionGolden, null, List.of());
    }

    private static byte[] codec(GoldenOutputs g) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(g, out);
        return out.toByteArray();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}

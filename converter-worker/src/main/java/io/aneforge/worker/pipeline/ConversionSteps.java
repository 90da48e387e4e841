package io.aneforge.worker.pipeline;

import io.aneforge.convert.ConvertedVariant;
import io.aneforge.convert.Golden;
import io.aneforge.convert.MaskedSamples;
import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.convert.Samples;
import io.aneforge.convert.VariantConverter;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.hub.HubClient;
import io.aneforge.hub.HubException;
import io.aneforge.mil.Target;
import io.aneforge.model.ImportedModel;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.source.ModelSource;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.MaskToken;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import io.aneforge.worker.lease.Leases;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import io.aneforge.worker.registry.RegistryModels.PlannedVariant;
import io.aneforge.worker.registry.RegistryModels.Progress;
import io.aneforge.worker.registry.RegistryModels.Variant;
import io.aneforge.worker.registry.RegistryModels.VariantReport;
import io.aneforge.worker.registry.RegistryModels.VersionGolden;
import io.aneforge.worker.source.LocalSourceRoots;
import io.aneforge.worker.workdir.WorkDirs;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * What each step of a conversion does, apart from the Spring Batch wiring ({@link ConversionJobConfig}).
 * Everything keyed by the conversion id; results go to the registry, and only ids and keys (snapshot
 * path, commit, digests) to the caller's execution context.
 */
@Component
public class ConversionSteps {

    private static final Logger log = LoggerFactory.getLogger(ConversionSteps.class);
    private static final Pattern SHA256_DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private final RegistryClient registry;
    private final Leases leases;
    private final ModelCache models;
    private final MeterRegistry meters;
    private final HubClient hub;
    private final WorkDirs workDirs;
    private final LocalSourceRoots localRoots;

    ConversionSteps(RegistryClient registry, Leases leases, ModelCache models, MeterRegistry meters,
                    HubClient hub, WorkDirs workDirs, LocalSourceRoots localRoots) {
        this.hub = hub;
        this.localRoots = localRoots;
        this.workDirs = workDirs;
        this.registry = registry;
        this.leases = leases;
        this.models = models;
        this.meters = meters;
    }

    /** The snapshot of a fetched source: where it is and the commit it was pinned to (null for local). */
    public record Fetched(String snapshotDir, String commit) {}

    /** Fetch: pins a hub revision to its commit and downloads (verified) what conversion needs, or opens a local snapshot. */
    public Fetched fetch(long id) throws IOException {
        Conversion c = leases.conversion(id);
        report(id, "fetch", null, null, null);
        ModelSnapshot snapshot;
        if ("hub".equals(c.source().type())) {
            String rev = c.source().commit() != null ? c.source().commit() : c.source().revision();
            String source = ModelSource.HUB_PREFIX + c.source().repo() + "@" + rev;
            try {
                snapshot = ModelSource.open(source, hub);
            } catch (HubException e) {
                if (e.kind() != HubException.Kind.INTEGRITY) throw e;
                // The bad download was discarded: a flipped bit in transit or a mirror serving a stale file
                // is worth one more download; a second mismatch is the Hub's (or the mirror's) and fails.
                log.warn("{}; downloading once more", e.getMessage());
                meters.counter("aneforge.worker.hub.integrity.retries").increment();
                snapshot = ModelSource.open(source, hub);
            }
        } else if ("local".equals(c.source().type())) {
            // The registry checked the path lexically; here its real path and its files' are checked.
            snapshot = ModelSnapshot.of(localRoots.realSource(Path.of(c.source().path())), null);
        } else {
            throw new IllegalStateException("conversion " + id + " has source type " + c.source().type());
        }
        String commit = snapshot.commitSha().orElse(null);
        if (commit != null) report(id, "fetch", commit, null, null);
        log.info("fetched {} -> {} (commit {})", c.source(), snapshot.directory(), commit);
        return new Fetched(snapshot.directory().toString(), commit);
    }

    /** Import: reads and validates the weights (corrupt files and unsupported architectures fail here). */
    public void importWeights(long id, Fetched f) {
        Conversion c = leases.conversion(id);
        report(id, "import", null, null, null);
        ImportedModel m = models.get(id, f.snapshotDir(), f.commit(), c);
        log.info("imported {} ({} tensors; {}{}{}{})", m.config().modelType(), m.weights().size(),
                m.head() != null ? "converting its task head" : "outputs: hidden states",
                m.absentHead() == null ? "" : ", config.json names " + m.absentHead() + " but the checkpoint holds none"
                        + " of that head's tensors",
                m.droppedHeads().isEmpty() ? "" : ", task head not converted: " + String.join(", ", m.droppedHeads()),
                m.tokenTypeInput() ? ", with a token_type_ids input" : "");
    }

    /**
     * Golden outputs of the unconverted FP32 graph on the fixed samples, stored as a blob; returns its hex digest.
     * The inputs blob is always built (tokenizing is cheap; the same samples give the same bytes), then the outputs
     * an earlier attempt stored are reused when {@link #earlierOutputs} finds them computed on those very inputs,
     * and computed otherwise; {@code aneforge.worker.golden{result=reused|computed}} counts which. The {@code PUT
     * .../golden} is idempotent, and replaces a pair an earlier attempt stored on other inputs (the version is a
     * draft). A masked LM's outputs digest is not reported on the conversion (below).
     */
    public String golden(long id, Fetched f) throws IOException {
        Conversion c = leases.conversion(id);
        report(id, "golden", null, null, null);
        ImportedModel model = models.get(id, f.snapshotDir(), f.commit(), c);
        List<Map<String, FloatTensor>> in;
        boolean masked;
        try (Tokenizer tokenizer = Tokenizer.load(Path.of(f.snapshotDir()).resolve(ModelSnapshot.TOKENIZER))) {
            // the samples `convert` stores too: the sentences, or the sentence pairs for a model with token types (the
            // conversion's tokenTypes: ModelCache imports the model with its token_type_ids input), a masked LM's with
            // its mask token
            if (MaskedSamples.lacksMaskToken(model, tokenizer)) {
                log.warn("conversion {}: {}", id, plainSamplesWarning(model));
            }
            in = Golden.sampleInputs(model, tokenizer, Samples.fixed().size(), c.seqLen());
            masked = MaskedSamples.maskToken(model, tokenizer).isPresent();
        }
        // The agents' accuracy jobs need the inputs as well as the outputs, with the same sample ids.
        String inputsHex = store(id, Golden.samples(in), "golden-inputs.bin", "application/vnd.aneforge.golden-inputs");
        String hex = earlierOutputs(c, inputsHex, masked, () -> Golden.storedFormat(model, in));
        if (hex == null) {
            // The function `convert` calls too, so both store the same bytes: real tokens only, 0 at padding,
            // vocabulary-sized logits at held positions only (golden format 3), each sample reduced as soon as it
            // is computed, so every real token's logits are never in memory at once (~615 MB for XLM-RoBERTa).
            GoldenOutputs golden = Golden.forStorage(model, in, ProgramEvaluator.runtime(), 0).stored();
            hex = store(id, golden, "golden.bin", "application/vnd.aneforge.golden-outputs");
            meters.counter("aneforge.worker.golden", "result", "computed").increment();
            log.info("golden outputs computed: sha256:{} (inputs sha256:{})", hex, inputsHex);
        } else {
            meters.counter("aneforge.worker.golden", "result", "reused").increment();
        }
        registry.setGolden(c.model(), c.version(), inputsHex, hex);
        // A masked LM's outputs digest is left off the conversion: a worker of an earlier release taking the lease
        // would reuse it with the plain samples it builds, pairing masked outputs with plain inputs. This release
        // reads the version's pair instead (or, from an older registry, computes a masked LM's outputs again).
        if (!masked && !("sha256:" + hex).equals(c.goldenDigest())) report(id, "golden", null, "sha256:" + hex, null);
        return hex;
    }

    /**
     * The hex digest of the golden outputs an earlier attempt stored that this attempt can reuse, or null when it
     * must compute them; logs which and why at info. The outputs go with the inputs they were computed on, so:
     * <ul>
     *   <li>from a registry that sends the version's pair ({@code versionGolden}), its outputs when its inputs are the
     *   blob just built ({@code inputsHex}: the same bytes, so the same samples, whichever attempt or worker release
     *   stored the pair), its outputs blob is in the registry, and its format is the one this worker stores now
     *   ({@code format}, {@link Golden#storedFormat}: {@code ANEFORGE_GOLDEN_FORMAT} may differ from the earlier
     *   attempt's). A worker before masked samples stored a masked LM's pair on the plain samples: its inputs differ,
     *   and the outputs are computed again. No pair (a crash between the uploads and the {@code PUT}): computed; a
     *   pair whose digests are not {@code sha256:<64 hex>} (a registry fault): computed, with a warning;</li>
     *   <li>from an older registry, which sends only the conversion's {@code goldenDigest}: that digest, except a
     *   masked LM's, since which inputs its outputs were computed on cannot be asked there (an earlier release's
     *   attempt computed them on the plain samples).</li>
     * </ul>
     */
    private String earlierOutputs(Conversion c, String inputsHex, boolean masked, IntSupplier format) {
        VersionGolden pair = c.versionGolden();
        if (pair == null) {
            if (c.goldenDigest() == null) {
                log.info("computing the golden outputs: no earlier attempt reported any");
                return null;
            }
            if (masked) {
                log.info("computing a masked LM's golden outputs again: the registry sends no versionGolden, so it"
                        + " cannot be told which inputs the earlier attempt's {} were computed on", c.goldenDigest());
                return null;
            }
            log.info("reusing the golden outputs an earlier attempt reported ({}); the registry sends no versionGolden",
                    c.goldenDigest());
            return c.goldenDigest().substring(7);
        }
        if (pair.inputsDigest() == null || pair.outputsDigest() == null) {
            log.info("computing the golden outputs: the version has no golden pair yet (a first attempt, or one that"
                    + " stopped before storing it)");
            return null;
        }
        if (!SHA256_DIGEST.matcher(pair.inputsDigest()).matches()
                || !SHA256_DIGEST.matcher(pair.outputsDigest()).matches()) {
            log.warn("computing the golden outputs: the registry sent a malformed versionGolden (inputs {}, outputs {};"
                    + " each should be sha256:<64 lowercase hex>), so its pair cannot be checked and is replaced",
                    pair.inputsDigest(), pair.outputsDigest());
            return null;
        }
        String outputsHex = pair.outputsDigest().substring("sha256:".length());
        if (!pair.inputsDigest().equals("sha256:" + inputsHex)) {
            log.info("computing the golden outputs: the version's pair has inputs {}, not the sha256:{} just built (an"
                    + " earlier attempt's samples, such as a worker's before masked samples), so its outputs {} are"
                    + " not theirs and the pair is replaced", pair.inputsDigest(), inputsHex, pair.outputsDigest());
            return null;
        }
        if (!registry.blobExists(outputsHex)) {
            log.info("computing the golden outputs: the version's pair names outputs {}, which the registry does not"
                    + " have", pair.outputsDigest());
            return null;
        }
        int now = format.getAsInt();
        if (pair.format() == null || pair.format() != now) {
            log.info("computing the golden outputs: the version's pair is golden format {}, this worker stores format {}"
                    + " (ANEFORGE_GOLDEN_FORMAT, or an earlier release's writer)", pair.format(), now);
            return null;
        }
        log.info("reusing the golden outputs {}: the version's pair has the inputs just built (sha256:{}), golden format"
                + " {} as this worker stores it, and the registry has the outputs blob", pair.outputsDigest(), inputsHex,
                now);
        return outputsHex;
    }

    /**
     * The worker log's warning for a masked LM whose tokenizer.json has no mask token ({@link
     * MaskedSamples#lacksMaskToken}): what its accuracy results then measure, and what the operator can do about it.
     */
    static String plainSamplesWarning(ImportedModel model) {
        String texts = String.join(" or ", MaskToken.TEXTS);
        return "the source's tokenizer.json has no mask token (" + texts + "), so the golden data of this "
                + model.head().kind().id() + " model is computed on the plain fixed samples, and the version's accuracy"
                + " jobs compare its logits at ordinary tokens, where a masked LM mostly predicts the token itself, not at"
                + " masked ones; the conversion goes on. To measure masked tokens, queue a new version (POST"
                + " /api/v1/models/{name}/versions) from a source whose tokenizer.json has the model's mask token as a"
                + " special added token (" + texts + "): the Hub revision it was trained with, or a local snapshot with"
                + " that tokenizer.json";
    }

    /** Writes {@code data} as a GoldenOutputsCodec blob, uploads it unless present, returns its hex digest. */
    private String store(long id, GoldenOutputs data, String name, String mediaType) throws IOException {
        Path file = workDir(id).resolve(name);
        String hex;
        try (OutputStream out = Files.newOutputStream(file)) {
            MessageDigest sha = sha256();
            try (DigestOutputStream d = new DigestOutputStream(out, sha)) {
                GoldenOutputsCodec.write(data, d);
            }
            hex = HexFormat.of().formatHex(sha.digest());
        }
        if (!registry.blobExists(hex)) registry.putBlob(hex, file, mediaType);
        Files.deleteIfExists(file);
        return hex;
    }

    /**
     * The build ids ({@code VariantSpec.buildId()}) of the conversion's planned variants, each once, in plan order:
     * variants that differ only in the chip have the same package, so each build is one partition of the
     * {@code variants} step.
     */
    public List<String> buildIds(long id) {
        return leases.conversion(id).variants().stream().map(v -> spec(v).buildId()).distinct().toList();
    }

    /**
     * One partition: one build and every chip's variant of it. Converts, quantizes, writes, archives, hashes and
     * uploads (unless present) the package once, then registers it for each chip (at most once). Variants already
     * registered (by an attempt that died before its partition was recorded as complete) are left alone, and a build
     * that has a registered variant with its blob in the registry (an earlier attempt's, or another worker's) is not
     * built again. Nothing waits on another partition, so a pool thread is only ever taken by work.
     *
     * @throws BuildFailure when the build or a registration fails: one failure for every chip of the build, naming
     *     them; the job then fails (or hands the lease back) as for any partition, and the build is not tried again
     *     for another chip
     */
    public void build(long id, String build, Fetched f) {
        Conversion c = leases.conversion(id);
        List<PlannedVariant> variants = c.variants().stream().filter(v -> spec(v).buildId().equals(build)).toList();
        if (variants.isEmpty()) throw new IllegalStateException("conversion " + id + " plans no variant of build " + build);
        List<String> chips = variants.stream().map(PlannedVariant::chip).toList();
        List<PlannedVariant> todo = new ArrayList<>();
        for (PlannedVariant pv : variants) {
            if ("registered".equals(pv.state())) {
                meters.counter("aneforge.worker.variants", "result", "already-registered").increment();
                log.info("variant {} is already registered as {}; not rebuilding", pv.specId(), pv.variantId());
            } else {
                todo.add(pv);
            }
        }
        if (todo.isEmpty()) return;
        try {
            String hex = registeredSibling(c, build);
            boolean built = hex == null;
            if (built) hex = buildAndUpload(id, c, todo.get(0).specId(), spec(todo.get(0)), chips, f);
            for (int i = 0; i < todo.size(); i++) {
                registerVariant(id, c, todo.get(i), hex, built && i == 0 ? "built" : "shared");
            }
        } catch (RuntimeException e) {
            throw new BuildFailure(build, chips, e);
        }
    }

    /**
     * The failure of one build, for every chip that shares it: reported once, naming the build and its chips. The
     * cause is kept, so a transient registry failure or an interrupt under it still reads as such.
     */
    static final class BuildFailure extends RuntimeException {
        BuildFailure(String build, List<String> chips, Throwable cause) {
            super("build " + build + " (chip" + (chips.size() == 1 ? " " : "s ") + String.join(", ", chips) + "): "
                    + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()), cause);
        }
    }

    private static VariantSpec spec(PlannedVariant pv) {
        return new VariantSpec(pv.chip(), Target.valueOf(pv.target()), Layout.parse(pv.layout()),
                Precision.parse(pv.precision()), pv.seqLen(), pv.attentionChunk());
    }

    /** The digest a registered variant of the same build has (an earlier attempt's, or another worker's), or null. */
    private String registeredSibling(Conversion c, String build) {
        for (PlannedVariant o : c.variants()) {
            if ("registered".equals(o.state()) && o.digest() != null && spec(o).buildId().equals(build)) {
                String hex = o.digest().startsWith("sha256:") ? o.digest().substring(7) : o.digest();
                if (registry.blobExists(hex)) return hex;
            }
        }
        return null;
    }

    private void registerVariant(long id, Conversion c, PlannedVariant pv, String hex, String result) {
        String specId = pv.specId();
        Variant v = registry.registerVariant(c.model(), c.version(), pv.registration(), hex);
        report(id, "variants", null, null, new VariantReport(specId, "registered", "sha256:" + hex, v.size(), v.id(), null));
        meters.counter("aneforge.worker.variants", "result", result).increment();
        log.info("variant {} {} and registered as {} (sha256:{}, {} bytes)", specId,
                "built".equals(result) ? "built" : "shares its build's package", v.id(), hex, v.size());
    }

    /** Converts the build of {@code spec}, uploads its archive unless the registry has it; returns its hex sha256. */
    private String buildAndUpload(long id, Conversion c, String specId, VariantSpec spec, List<String> chips, Fetched f) {
        report(id, "variants", null, null, new VariantReport(specId, "building", null, null, null, null));
        ImportedModel m = models.get(id, f.snapshotDir(), f.commit(), c);
        // Named by the build, as `convert` names it: the archive holds the package under this name, so the
        // worker's bytes and the CLI's are the same, whichever chip's partition builds it.
        Path dir = workDir(id).resolve(spec.buildId() + ".mlpackage");
        Path archive = workDir(id).resolve(spec.buildId() + ".mlpackage.zip");
        deleteTree(dir);
        Timer.Sample t = Timer.start(meters);
        ConvertedVariant cv = VariantConverter.convert(m, spec, dir, archive,
                models.encodings(id, f.snapshotDir(), f.commit(), c, spec.seqLen()));
        t.stop(meters.timer("aneforge.worker.variant.build"));
        String hex = cv.archiveSha256();
        boolean present = registry.blobExists(hex);
        if (!present) registry.putBlob(hex, archive, "application/zip");
        meters.counter("aneforge.worker.blobs", "result", present ? "skipped" : "uploaded").increment();
        log.info("build {} (chips {}): sha256:{}, {} bytes{}", spec.buildId(), chips, hex, cv.archiveSize(),
                present ? ", blob already present" : ", uploaded");
        deleteTree(dir);
        try {
            Files.deleteIfExists(archive);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return hex;
    }

    public void finish(long id) {
        registry.complete(id, leases.token(id));
        leases.finished(id);
        log.info("conversion complete; version published");
    }

    /** Reports a failure the job could not recover from (the version fails, its variants are removed). */
    public void fail(long id, String reason) {
        registry.fail(id, leases.token(id), reason.length() > 4000 ? reason.substring(0, 4000) : reason);
        leases.finished(id);
    }

    /** Frees the memory a finished (or failed) job held on this worker (its lease and work directory: ConversionRunner). */
    public void cleanUp(long id) {
        models.evict(id);
    }

    private void report(long id, String step, String commit, String golden, VariantReport v) {
        registry.progress(id, new Progress(leases.token(id), step, commit, golden, v == null ? null : List.of(v)));
    }

    /** The conversion's scratch directory, claimed by the runner for as long as the job runs. */
    private Path workDir(long id) {
        Path dir = workDirs.dir(id);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create work directory " + dir + " (ANEFORGE_WORKER_WORK_DIR)", e);
        }
        return dir;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}

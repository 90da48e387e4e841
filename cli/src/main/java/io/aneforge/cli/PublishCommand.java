package io.aneforge.cli;

import io.aneforge.cli.convert.GoldenData;
import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.registry.Registrations;
import io.aneforge.cli.registry.RegistryClient;
import io.aneforge.cli.registry.RegistryException;
import io.aneforge.cli.registry.RegistryNames;
import io.aneforge.model.HeadChoice;
import io.aneforge.source.ModelSource;
import io.aneforge.source.ModelSourceException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code aneforge publish}: either upload the variants of a local {@code convert --out} directory as a
 * new version ({@code --dir}), or ask the registry to convert a Hub model on its workers
 * ({@code --source hf:... --chips ...}).
 */
@Command(name = "publish", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Publish a model version to the registry (ANEFORGE_REGISTRY_URL, token in ANEFORGE_TOKEN).",
            "--dir <convert output>: upload its golden data and archives, register the variants, publish (unless "
                    + "--draft). A directory without golden data is refused unless --without-golden-data --reason TEXT.",
            "--source hf:org/name@rev --chips ...: queue a conversion on the registry's workers."})
public final class PublishCommand implements Callable<Integer> {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "NAME", description = "Registry model name ([a-z0-9][a-z0-9._-]*).")
    String model;

    @Option(names = "--dir", paramLabel = "<dir>", description = "A convert output directory (with variants.json).")
    Path dir;

    @Option(names = "--source", paramLabel = "hf:org/name@rev", description = "Hub model for a registry-side conversion.")
    String source;

    @Option(names = "--chips", split = ",", paramLabel = "CHIP", description = "With --source: chips to convert for.")
    List<String> chips = new ArrayList<>();

    @Option(names = "--recipe", paramLabel = "NAME", description = "With --source: built-in recipe name (default: default).")
    String recipe;

    @Option(names = "--seq-len", paramLabel = "N", description = "With --source: sequence length (default 128).")
    Integer seqLen;

    @Option(names = "--head", paramLabel = "convert|none|<kind>", description = "With --source: a fine-tuned checkpoint's "
            + "task head, as convert --head: convert it (default), none (the packages output the hidden states) or the "
            + "kind to convert of a checkpoint that names two (sequence-classification, token-classification, "
            + "question-answering, fill-mask, pre-training; pre-training also for a BERT masked LM whose checkpoint "
            + "carries the next-sentence head, cls.seq_relationship, and the pooler it reads).")
    String head;

    @Option(names = "--token-types", description = "With --source: give the packages a token_type_ids input, as convert "
            + "--token-types (default: none).")
    boolean tokenTypes;

    @Option(names = "--task", defaultValue = "feature-extraction", paramLabel = "TASK",
            description = "Task recorded when the model is created (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--draft", description = "With --dir: leave the version as a draft (do not publish).")
    boolean draft;

    @Option(names = "--alias", paramLabel = "ALIAS", description = "With --dir: point this alias at the published version.")
    String alias;

    @Option(names = "--reason", paramLabel = "TEXT",
            description = "Reason recorded with the alias move, and on the version with --without-golden-data.")
    String reason;

    @Option(names = "--without-golden-data", description = "With --dir: publish a directory that has no golden data "
            + "(convert --samples 0, or an older convert); needs --reason. Its accuracy is not checked and nothing is "
            + "benchmarked (the matrix says so); the registry refuses such a version otherwise.")
    boolean withoutGoldenData;

    @Override
    public Integer call() {
        ChipsOption.refuseEmptyEntries(spec);
        if ((dir == null) == (source == null)) {
            throw new UsageException("pass either --dir <convert output> (upload local variants) or --source hf:org/name "
                    + "--chips ... (convert on the registry), not " + (dir == null ? "neither" : "both"));
        }
        if (dir != null && (!chips.isEmpty() || recipe != null || seqLen != null || head != null || tokenTypes)) {
            throw new UsageException("--chips/--recipe/--seq-len/--head/--token-types apply to --source conversions; a "
                    + "--dir already holds converted variants: drop them");
        }
        if (head != null) {
            try {
                HeadChoice.parse(head);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
        if (alias != null && (draft || source != null)) {
            throw new UsageException("--alias needs a version published now: use it with --dir and without --draft "
                    + "(move the alias later with the aliases API)");
        }
        if (withoutGoldenData && source != null) {
            throw new UsageException("--without-golden-data applies to --dir: a registry-side conversion stores its own "
                    + "golden data (the worker's golden step): drop it");
        }
        if (withoutGoldenData && draft) {
            throw new UsageException("--without-golden-data applies when publishing, and --draft does not publish: drop one");
        }
        if (withoutGoldenData && reason == null) {
            throw new UsageException("--without-golden-data needs --reason TEXT: why this version ships with its accuracy "
                    + "not checked (kept on the version)");
        }
        // Everything the registry would refuse is checked here first: a refusal after "publish" cannot be undone.
        RegistryNames.model(model);
        if (alias != null) {
            RegistryNames.alias(alias);
        }
        if (reason != null) {
            RegistryNames.reason(reason);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (dir != null) {
            // Read, check and hash everything local first so that a broken directory fails before the registry changes.
            VariantsManifest m = readManifest();
            requireGoldenDataOrOptOut(m);
            Map<String, Object> src = versionSource(m);
            List<Map<String, Object>> registrations = registrations(m);
            RegistryClient registry = RegistryClient.fromEnvironment(root.env);
            return publishDirectory(registry, m, src, registrations, out);
        }
        ModelSource.HubSource hub;
        try {
            hub = ModelSource.parseHubSource(source);
        } catch (ModelSourceException e) {
            throw new UsageException("--source: " + e.getMessage());
        }
        if (chips.isEmpty()) {
            throw new UsageException("a registry-side conversion needs --chips (e.g. --chips A17_PRO,M4)");
        }
        if (seqLen != null && seqLen < ConvertCommand.MIN_SEQ_LEN) {
            throw new UsageException("--seq-len must be at least " + ConvertCommand.MIN_SEQ_LEN + " (room for the tokenizer's "
                    + "two special tokens, [CLS] and [SEP] of a BERT input), got " + seqLen + ": pass --seq-len "
                    + ConvertCommand.MIN_SEQ_LEN + " or more (default 128)");
        }
        RegistryClient registry = RegistryClient.fromEnvironment(root.env);
        ensureModel(registry, out);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("source", Map.of("type", "hub", "repo", hub.repoId(), "revision", hub.revision()));
        body.put("chips", chips);
        body.put("recipe", recipe == null ? "default" : recipe);
        body.put("seqLen", seqLen == null ? 128 : seqLen);
        // sent only when asked for, so that any other request stays what it was before V30
        if (head != null) {
            body.put("head", head);
        }
        if (tokenTypes) {
            body.put("tokenTypes", true);
        }
        JsonNode v = registry.post("/api/v1/models/" + RegistryClient.encode(model) + "/versions", body);
        int version = v.path("version").asInt();
        if (head != null || tokenTypes) {
            checkOptionsKept(registry, version, out);
        }
        out.println("version " + version + " of " + model + " created from " + source + "; conversion queued for "
                + String.join(",", chips) + ". Follow it with: aneforge status --model " + model + " --version " + version);
        return AneForge.OK;
    }

    private VariantsManifest readManifest() {
        Path file = dir.resolve(VariantsManifest.FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new UsageException(dir + " has no " + VariantsManifest.FILE_NAME + ": pass the --out directory of "
                    + "aneforge convert");
        }
        VariantsManifest m = VariantsManifest.read(file);
        String fix = ": rerun aneforge convert into " + dir;
        // Variants that differ only in the chip share one archive (convert writes each build once): hashed once.
        Map<Path, String> hashed = new java.util.HashMap<>();
        if (m.model() == null || m.model().source() == null) {
            throw new UsageException(file + " has no model.source" + fix);
        }
        if (m.variants().isEmpty()) {
            throw new UsageException(file + " lists no variants (\"variants\": [])" + fix);
        }
        for (int i = 0; i < m.variants().size(); i++) {
            VariantEntry e = m.variants().get(i);
            String at = file + " variants[" + i + "] (" + e.id() + ")";
            for (Map.Entry<String, String> f : Map.of("chip", nz(e.chip()), "deploymentTarget", nz(e.deploymentTarget()),
                    "layout", nz(e.layout()), "precision", nz(e.precision()), "archive", nz(e.archive())).entrySet()) {
                if (f.getValue().isBlank()) {
                    throw new UsageException(at + " has no " + f.getKey() + fix);
                }
            }
            Path archive = dir.resolve(e.archive());
            if (!Files.isRegularFile(archive)) {
                throw new UsageException(archive + " is missing: rerun convert into " + dir);
            }
            String actual = hashed.computeIfAbsent(archive, PublishCommand::sha256);
            if (!actual.equals(e.sha256())) {
                throw new UsageException(archive + " has sha256 " + actual + " but " + at + " says " + e.sha256()
                        + ": the archive is corrupt or was changed" + fix);
            }
        }
        VariantsManifest.Golden g = m.golden();
        if (g != null) {
            for (String[] f : new String[][] {{"inputs", g.inputs(), g.inputsSha256()},
                    {"outputs", g.outputs(), g.outputsSha256()}}) {
                String at = file + " golden." + f[0];
                if (nz(f[1]).isBlank() || f[2] == null || !f[2].matches("[0-9a-f]{64}")) {
                    throw new UsageException(at + " needs a file and its 64-hex sha256" + fix);
                }
                Path golden = dir.resolve(f[1]);
                if (!Files.isRegularFile(golden)) {
                    throw new UsageException(golden + " (" + at + ") is missing" + fix);
                }
                String actual = sha256(golden);
                if (!actual.equals(f[2])) {
                    throw new UsageException(golden + " has sha256 " + actual + " but " + at + "Sha256 says " + f[2]
                            + ": the file is corrupt or was changed" + fix);
                }
            }
        }
        return m;
    }

    /**
     * The registry refuses to publish a version without golden data (its accuracy could never be checked) unless the
     * publisher opts out: said here, before anything is uploaded, rather than after a draft was created.
     */
    private void requireGoldenDataOrOptOut(VariantsManifest m) {
        if (m.golden() != null && withoutGoldenData) {
            throw new UsageException(dir + " has golden data, so its accuracy is checked: drop --without-golden-data");
        }
        if (m.golden() == null && !draft && !withoutGoldenData) {
            throw new UsageException(dir + " has no golden data (golden-inputs.bin and golden-outputs.bin: convert "
                    + "--samples 0, or a convert older than golden-*.bin), and the registry does not publish a version "
                    + "without it: its accuracy and benchmark jobs could never run. Convert again (--samples 1 or more) "
                    + "and publish that, or publish it anyway with --without-golden-data --reason TEXT (accuracy not "
                    + "checked), or keep it a draft with --draft");
        }
    }

    private static String sha256(Path file) {
        try {
            return io.aneforge.cli.registry.BlobCache.sha256Of(file);
        } catch (java.io.IOException ex) {
            throw new UsageException("cannot read " + file + ": " + io.aneforge.io.IoProblems.describe(ex, file));
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    /** The registry's variant fields of every entry, or a usage error naming the entry and field. */
    private List<Map<String, Object>> registrations(VariantsManifest m) {
        Path file = dir.resolve(VariantsManifest.FILE_NAME);
        List<Map<String, Object>> all = new ArrayList<>();
        for (int i = 0; i < m.variants().size(); i++) {
            VariantEntry e = m.variants().get(i);
            try {
                all.add(Registrations.of(e));
            } catch (IllegalArgumentException ex) {
                throw new UsageException(file + " variants[" + i + "] (" + e.id() + ") " + ex.getMessage()
                        + ": rerun aneforge convert into " + dir);
            }
        }
        return all;
    }

    private Map<String, Object> versionSource(VariantsManifest m) {
        Map<String, Object> src = new LinkedHashMap<>();
        if (ModelSource.isHubSource(m.model().source())) {
            ModelSource.HubSource hub;
            try {
                hub = ModelSource.parseHubSource(m.model().source());
            } catch (ModelSourceException e) {
                throw new UsageException(dir.resolve(VariantsManifest.FILE_NAME) + " model.source: " + e.getMessage());
            }
            src.put("type", "hub");
            src.put("repo", hub.repoId());
            src.put("revision", m.model().commit() != null ? m.model().commit() : hub.revision());
        } else {
            src.put("type", "upload");
        }
        return src;
    }

    private int publishDirectory(RegistryClient registry, VariantsManifest m, Map<String, Object> src,
                                 List<Map<String, Object>> registrations, PrintWriter out) {
        ensureModel(registry, out);
        String name = RegistryClient.encode(model);
        // Blobs first, and only those the registry lacks (as the worker does): a failed upload then leaves no draft
        // version behind, and a retry sends only what is missing. Variants that differ only in the chip share one
        // archive (one sha256): it is sent once and registered for each of them.
        int n = 0;
        Map<String, String> sent = new java.util.HashMap<>();
        for (VariantEntry e : m.variants()) {
            String first = sent.get(e.sha256());
            String what;
            if (first != null) {
                what = "same package as " + first;
            } else {
                boolean stored = registry.blobExists(e.sha256());
                if (!stored) {
                    registry.putBlob(e.sha256(), dir.resolve(e.archive()));
                }
                sent.put(e.sha256(), e.id());
                what = stored ? "already stored" : "uploaded";
            }
            n++;
            out.println("[" + n + "/" + m.variants().size() + "] " + e.id() + "  sha256:" + e.sha256().substring(0, 12) + "…  "
                    + what);
            out.flush();
        }
        int version;
        Set<String> registered = new HashSet<>();
        String kind = draft ? PublishNote.DRAFT : PublishNote.PUBLISH;
        Optional<JsonNode> left = draftLeftBehind(registry, src, registrations, kind);
        if (left.isPresent()) {
            version = left.get().path("version").asInt();
            for (JsonNode v : registry.get("/api/v1/models/" + name + "/versions/" + version + "/variants")) {
                registered.add(identity(v));
            }
            out.println("reusing draft version " + version + " of " + model + " (left by an earlier attempt with "
                    + registered.size() + " of these variants)");
        } else {
            version = registry.post("/api/v1/models/" + name + "/versions", Map.of("source", src)).path("version").asInt();
            out.println("created draft version " + version + " of " + model);
            note(new PublishNote(registry.base().toString(), model, version, kind), out);
        }
        setGolden(registry, m, name, version, out);
        for (Map<String, Object> r : registrations) {
            if (!registered.contains(identity(JSON.valueToTree(r)))) {
                registry.post("/api/v1/models/" + name + "/versions/" + version + "/variants", r);
            }
        }
        out.println("registered " + n + " variants (" + sent.size() + " distinct " + (sent.size() == 1 ? "package" : "packages")
                + ")");
        if (draft) {
            // Kept on purpose: no later run may take it for a failed one's.
            forgetNote(out);
            out.println("version " + version + " stays a draft with " + n + " variants");
            return AneForge.OK;
        }
        registry.post("/api/v1/models/" + name + "/versions/" + version + "/publish", withoutGoldenData
                ? Map.of("withoutGoldenData", true, "reason", reason) : Map.of());
        forgetNote(out);
        out.println("published version " + version + " of " + model + " with " + n + " variants"
                + (withoutGoldenData ? " without golden data: accuracy not checked, nothing benchmarked" : ""));
        if (alias != null) {
            Map<String, Object> move = new LinkedHashMap<>();
            move.put("version", version);
            move.put("reason", reason == null ? "aneforge publish" : reason);
            try {
                registry.put("/api/v1/models/" + name + "/aliases/" + RegistryClient.encode(alias), move);
            } catch (CommandFailure e) {
                throw new CommandFailure("version " + version + " of " + model + " WAS published, but moving alias " + alias
                        + " failed (" + e.getMessage() + "): do not publish again; move the alias with PUT /api/v1/models/"
                        + model + "/aliases/" + alias + " {\"version\": " + version + ", \"reason\": ...}", e);
            }
            out.println("alias " + alias + " -> version " + version);
        }
        return AneForge.OK;
    }

    /** Notes the new draft in the directory (PublishNote); a directory we cannot write only loses the reuse. */
    private void note(PublishNote note, PrintWriter out) {
        try {
            note.write(dir);
        } catch (java.io.IOException | RuntimeException e) {
            out.println("could not note draft version " + note.version() + " in " + PublishNote.file(dir) + " (" + e
                    + "): if this publish fails, the next one creates a new draft instead of finishing this one");
        }
    }

    private void forgetNote(PrintWriter out) {
        try {
            PublishNote.delete(dir);
        } catch (java.io.IOException | RuntimeException e) {
            // Harmless: a note names one draft, which is no draft any more (published) or was a --draft run's,
            // and --dir runs reuse only a draft their own kind of run left.
            out.println("could not delete " + PublishNote.file(dir) + " (" + e + "); delete it by hand");
        }
    }

    /**
     * The draft an earlier {@code publish --dir} of this directory left when it failed after creating the version,
     * as its {@link PublishNote} says, if it was the same kind of run ({@code --draft} or not) for this registry and
     * model, and the draft still fits: a draft, same source, no conversion, and every variant it holds is one of ours.
     * Reusing it keeps retries from piling up drafts, which the registry cannot delete. A draft kept on purpose
     * ({@code --draft} that succeeded) has no note, so it is never reused, let alone published.
     */
    private Optional<JsonNode> draftLeftBehind(RegistryClient registry, Map<String, Object> src,
                                               List<Map<String, Object>> registrations, String kind) {
        Optional<PublishNote> note = PublishNote.read(dir);
        if (note.isEmpty() || !note.get().leftBy(registry.base().toString(), model, kind)) {
            return Optional.empty();
        }
        String at = "/api/v1/models/" + RegistryClient.encode(model) + "/versions/" + note.get().version();
        Optional<JsonNode> found = registry.find(at);
        if (found.isEmpty()) {
            return Optional.empty(); // another registry behind the same URL (a fresh database)
        }
        JsonNode d = found.get();
        JsonNode s = d.path("source");
        boolean sameSource = s.path("type").asString("").equals(src.get("type"))
                && (!"hub".equals(src.get("type")) || (s.path("repo").asString("").equals(src.get("repo"))
                && (s.path("revision").asString("").equals(src.get("revision"))
                || s.path("commit").asString("").equals(src.get("revision")))));
        if (!"draft".equals(d.path("status").asString("")) || !sameSource) {
            return Optional.empty();
        }
        if (registry.find(at + "/conversion").isPresent()) {
            return Optional.empty(); // a registry-side conversion's version: its worker fills it
        }
        Set<String> ours = new HashSet<>();
        registrations.forEach(r -> ours.add(identity(JSON.valueToTree(r))));
        for (JsonNode v : registry.get(at + "/variants")) {
            if (!ours.contains(identity(v))) {
                return Optional.empty();
            }
        }
        return Optional.of(d);
    }

    /** A variant's identity as the registry sees it (chip, target, layout, precision, block, quantization, seq len) and its blob. */
    private static String identity(JsonNode v) {
        List<String> parts = new ArrayList<>();
        for (String f : List.of("chip", "deploymentTarget", "layout", "precision", "blockSize", "quantization", "seqLen", "digest")) {
            JsonNode x = v.path(f);
            parts.add(x.isNull() || x.isMissingNode() ? "" : x.asString());
        }
        return String.join("|", parts);
    }

    /**
     * Uploads the directory's golden data and sets it on the draft (PUT .../golden: only a draft takes it), so
     * the version's accuracy and benchmark jobs can run; without it (--samples 0, or an older convert: only with
     * --draft or --without-golden-data, {@link #requireGoldenDataOrOptOut}) one line says what that means.
     */
    private void setGolden(RegistryClient registry, VariantsManifest m, String name, int version, PrintWriter out) {
        VariantsManifest.Golden g = m.golden();
        if (g == null) {
            out.println("no golden data in " + dir + " (convert --samples 0, or a convert older than golden-*.bin): "
                    + (withoutGoldenData ? "publishing version " + version + " without it as asked (--without-golden-data):"
                    + " its accuracy is not checked and its jobs are cancelled"
                    : "draft version " + version + " cannot be published without it (PUT .../golden first, or publish"
                    + " with --without-golden-data --reason TEXT)"));
            return;
        }
        if (!registry.blobExists(g.inputsSha256())) {
            registry.putBlob(g.inputsSha256(), dir.resolve(g.inputs()), GoldenData.INPUTS_MEDIA_TYPE);
        }
        if (!registry.blobExists(g.outputsSha256())) {
            registry.putBlob(g.outputsSha256(), dir.resolve(g.outputs()), GoldenData.OUTPUTS_MEDIA_TYPE);
        }
        try {
            registry.put("/api/v1/models/" + name + "/versions/" + version + "/golden",
                    Map.of("inputs", "sha256:" + g.inputsSha256(), "outputs", "sha256:" + g.outputsSha256()));
        } catch (RegistryException e) {
            throw olderRegistry(e, version).orElseThrow(() -> e);
        }
        out.println("golden data: " + g.samples() + " samples, inputs sha256:" + g.inputsSha256().substring(0, 12)
                + "…, outputs sha256:" + g.outputsSha256().substring(0, 12) + "…");
        out.flush();
    }

    /** What a registry from before a golden format says of a blob in it: "unsupported version N ... newer ANE Forge". */
    private static final java.util.regex.Pattern NEWER_GOLDEN_FORMAT = java.util.regex.Pattern.compile(
            "unsupported version (\\d+) \\(this reader supports 1 to \\d+\\): the blob was written by a newer ANE Forge");

    /**
     * The failure to report when PUT .../golden was refused by a registry older than the directory's golden format: it
     * answers 422 not-golden-data telling "this component" to upgrade and to upload what convert wrote, which the user
     * did; the registry is what needs upgrading (or the golden data written in a format it reads).
     */
    private static Optional<CommandFailure> olderRegistry(RegistryException e, int version) {
        java.util.regex.Matcher m = NEWER_GOLDEN_FORMAT.matcher(e.getMessage());
        if (e.status() != 422 || !m.find()) {
            return Optional.empty();
        }
        int format = Integer.parseInt(m.group(1));
        return Optional.of(new CommandFailure("the registry predates golden format " + format + " (it refused this"
                + " directory's golden data as unsupported version " + format + "): upgrade it, or re-run convert with"
                + " ANEFORGE_GOLDEN_FORMAT=" + (format - 1) + " (what a registry of the previous release reads) and"
                + " publish that; draft version " + version + " stays (a later publish of this directory reuses it)", e));
    }

    /**
     * Reads the queued conversion back: a registry before V30 ignores {@code head} and {@code tokenTypes} (unknown
     * fields) and would convert with the checkpoint's head and without {@code token_type_ids}, packages other than
     * asked for. Such a conversion is cancelled (best effort; the draft version stays, without packages) and the
     * command fails naming the registry as too old.
     */
    private void checkOptionsKept(RegistryClient registry, int version, PrintWriter out) {
        String path = "/api/v1/models/" + RegistryClient.encode(model) + "/versions/" + version + "/conversion";
        JsonNode c = registry.get(path);
        String wantHead = head == null ? "convert" : head;
        JsonNode storedHead = c.path("head");
        JsonNode storedTypes = c.path("tokenTypes");
        if (storedHead.isString() && storedHead.asString().equals(wantHead) && storedTypes.isBoolean()
                && storedTypes.asBoolean() == tokenTypes) {
            return;
        }
        String stored = "head " + (storedHead.isMissingNode() ? "(none)" : storedHead.toString()) + ", tokenTypes "
                + (storedTypes.isMissingNode() ? "(none)" : storedTypes.toString());
        String cancelled;
        try {
            registry.post("/api/v1/conversions/" + c.path("id").asLong() + "/cancel", Map.of());
            cancelled = "the conversion was cancelled";
        } catch (RuntimeException e) {
            cancelled = "cancelling it failed (" + e.getMessage() + "): cancel conversion " + c.path("id").asLong()
                    + " before a worker builds it";
        }
        throw new CommandFailure("the registry did not keep the conversion options: sent head '" + wantHead
                + "', tokenTypes " + tokenTypes + "; version " + version + " of " + model + " stored " + stored
                + ". The registry is older than head/tokenTypes (V30) and would build other packages; " + cancelled
                + ". Upgrade the registry, or publish without --head/--token-types");
    }

    private void ensureModel(RegistryClient registry, PrintWriter out) {
        String path = "/api/v1/models/" + RegistryClient.encode(model);
        try {
            registry.get(path);
        } catch (RegistryException e) {
            if (e.status() != 404) {
                throw e;
            }
            Map<String, Object> create = new LinkedHashMap<>();
            create.put("name", model);
            create.put("task", task);
            registry.post("/api/v1/models", create);
            out.println("created model " + model + " (task " + task + ")");
        }
    }
}

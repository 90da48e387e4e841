package io.aneforge.cli;

import io.aneforge.convert.Calibration;
import io.aneforge.convert.MaskedSamples;
import io.aneforge.graph.WeightCache;
import io.aneforge.cli.convert.FidelityCheck;
import io.aneforge.cli.convert.GoldenData;
import io.aneforge.cli.convert.PreviousOutput;
import io.aneforge.cli.convert.RecipeConversion;
import io.aneforge.cli.convert.SourceModel;
import io.aneforge.cli.convert.Staging;
import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.progress.Progress;
import io.aneforge.cli.reference.OnnxRuntimeReference;
import io.aneforge.cli.reference.Reference;
import io.aneforge.cli.reference.SourceOnnx;
import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.convert.ConvertedVariant;
import io.aneforge.convert.Golden;
import io.aneforge.convert.Samples;
import io.aneforge.convert.VariantConverter;
import io.aneforge.eval.FidelityReport;
import io.aneforge.io.IoProblems;
import io.aneforge.kernels.Parallel;
import io.aneforge.mil.Target;
import io.aneforge.recipe.Recipe;
import io.aneforge.source.ModelSource;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code aneforge convert}: every variant of a recipe into a directory (with {@code variants.json}),
 * or one variant into one {@code .mlpackage} when {@code --layout/--precision/--target} are given.
 */
@Command(name = "convert", sortOptions = false, mixinStandardHelpOptions = true,
        description = {
            "Convert a model into Core ML variants.",
            "Recipe mode (default): one <build-id>.mlpackage and .mlpackage.zip per distinct package the recipe's "
                    + "variants need for the chips (variants that differ only in the chip share one), plus variants.json "
                    + "(one entry per variant), tokenizer.json and the golden data publish --dir uploads "
                    + "(golden-inputs.bin, golden-outputs.bin), in --out.",
            "Single mode (--layout/--precision/--target, or --out ending in .mlpackage): one package."})
public final class ConvertCommand implements Callable<Integer> {

    /** Chip recorded in a single variant when --chips is not given (the program does not depend on it). */
    static final String SINGLE_DEFAULT_CHIP = "A17_PRO";

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    @Option(names = "--source", required = true, paramLabel = "<dir|hf:org/name@rev>",
            description = "Model snapshot directory (config.json, weights, tokenizer.json) or hf:org/name[@revision].")
    String source;

    @Option(names = "--out", required = true, paramLabel = "<path>",
            description = "Output directory (recipe mode) or .mlpackage path (single mode).")
    Path out;

    @Option(names = "--chips", split = ",", paramLabel = "CHIP",
            description = "Chip catalog ids, comma separated (default: every catalog chip; single mode: "
                    + SINGLE_DEFAULT_CHIP + ").")
    List<String> chips = new ArrayList<>();

    @Option(names = "--recipe", paramLabel = "<name|file.yaml>", description = "Built-in recipe name or recipe file (default: default).")
    String recipe;

    @Option(names = "--seq-len", defaultValue = "128", paramLabel = "N", description = "Static sequence length (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--layout", paramLabel = "ane|standard", description = "Single mode: tensor layout (default ane).")
    String layout;

    @Option(names = "--precision", paramLabel = "P", description = "Single mode: fp32, fp16, int8-channel, "
            + "int8-block{32,64,128}[-affine][-mse|-gptq], int4-block{32,64,128}[-affine][-mse|-gptq][-ffn8], "
            + "w8a8[-affine] (default fp16; "
            + "-mse: per-block clip search for the scales; -gptq: GPTQ with statistics of fixed calibration texts; "
            + "-ffn8: the FFN input projections at int8, the rest int4; w8a8: iOS 17, int8 activations too, calibrated, "
            + "-affine with zero points).")
    String precision;

    @Option(names = "--target", paramLabel = "iosNN", description = "Single mode: deployment target ios15..ios26 "
            + "(default: max(precision minimum, ios16)).")
    String target;

    @Option(names = "--attention-chunk", paramLabel = "N", description = "Single mode: query chunk of the attention "
            + "(0 = none, else 64..seq-len; default: 512 above 512 tokens in the ane layout, else none).")
    Integer attentionChunk;

    @Option(names = "--samples", defaultValue = "8", paramLabel = "N",
            description = "Fixed sample sentences for the fidelity metrics, 0..32; 0 skips the golden outputs and the "
                    + "fidelity metrics (variants.json then has empty fidelity and no golden data for publish --dir) "
                    + "(default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--min-cosine", paramLabel = "C", description = "Fail (exit 1) when a variant's worst per-position "
            + "cosine similarity to the reference's outputs (--reference) is below C.")
    Double minCosine;

    @Option(names = "--reference", defaultValue = "fp32-graph", paramLabel = "<fp32-graph|onnxruntime>",
            converter = Reference.Converter.class,
            description = "What computes the outputs fidelity and --min-cosine compare with: fp32-graph, the converter's "
                    + "own unconverted graph of --source (default), or onnxruntime, ONNX Runtime running the source's "
                    + "onnx/model.onnx (an independent engine; the golden data for publish --dir stays the FP32 graph's).")
    Reference reference;

    @Option(names = "--calibration", paramLabel = "<texts.txt>", description = "-gptq precisions: calibration texts, "
            + "one per line, UTF-8 (default: the 64 built-in texts, or the 64 built-in sentence pairs for a model with "
            + "token types); texts from the model's own domain fit it best. With --token-types a line with a tab is a "
            + "sentence pair: the first text, a tab, the second.")
    Path calibration;

    @Option(names = "--head", defaultValue = "convert", paramLabel = "convert|none|<kind>",
            description = "A fine-tuned checkpoint's task head (sequence or token classification, question answering, "
                    + "masked LM, BERT pre-training: masked LM plus next-sentence prediction): convert it, so the packages "
                    + "output its logits as Hugging Face's pipelines read them "
                    + "(default; a config whose architectures name two head kinds needs the kind), none: output the base "
                    + "model's hidden states (last_hidden_state, pooler_output), or the kind to convert: "
                    + "sequence-classification, token-classification, question-answering, fill-mask (also the masked-LM "
                    + "half of a pre-training checkpoint) or pre-training (also a BERT masked LM whose checkpoint carries "
                    + "the next-sentence head, cls.seq_relationship, and the pooler it reads, as bert-base-uncased's "
                    + "does).")
    String head;

    @Option(names = "--token-types", description = "Give the packages a token_type_ids input (int32, shaped like "
            + "input_ids: 0 for the first text of a pair, 1 for the second), for cross-encoders and other pair models; "
            + "BERT-style models with type_vocab_size >= 2 only. Default: every token is segment 0, no such input.")
    boolean tokenTypes;

    @Option(names = "--force", description = "Replace output files that already exist (once the new ones are complete); "
            + "recipe mode also removes the files an earlier convert's variants.json names that this run does not write.")
    boolean force;

    @Option(names = "--progress", defaultValue = "auto", paramLabel = "auto|bar|plain",
            description = "Progress display (default: a bar on a terminal, plain lines otherwise).")
    String progress;

    /** The shortest --seq-len: ane-core's, which the recipes and the registry apply too. */
    static final int MIN_SEQ_LEN = io.aneforge.variant.VariantSpec.MIN_SEQ_LEN;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        if (out.toString().isBlank()) {
            throw new UsageException("--out is empty: pass an output directory (or an .mlpackage path for one variant)");
        }
        boolean single = layout != null || precision != null || target != null || attentionChunk != null
                || out.getFileName() != null && out.getFileName().toString().endsWith(".mlpackage");
        Progress bar = progress(stdout);
        checkOptions();
        ChipsOption.refuseEmptyEntries(spec);
        chips = ChipsOption.canonical(chips);
        if (reference == Reference.ONNXRUNTIME) {
            EvalCommand.requireOnnxRuntime(); // before the source's weights are read
        }
        if (single) {
            if (recipe != null) {
                throw new UsageException("--recipe chooses many variants, while --layout/--precision/--target (or an "
                        + ".mlpackage --out) build one: drop --recipe, or drop those options and pass an output directory");
            }
            return convertOne(stdout, bar);
        }
        return convertRecipe(stdout, bar);
    }

    private Progress progress(PrintWriter stdout) {
        switch (progress) {
            case "auto": return Progress.to(stdout, Progress.stdoutIsTerminal());
            case "bar": return Progress.to(stdout, true);
            case "plain": return Progress.to(stdout, false);
            default: throw new UsageException("--progress must be auto, bar or plain, got '" + progress + "'");
        }
    }

    /**
     * Everything is checked before anything is written: the options, the recipe, the output paths, then the
     * source (config, weights, tokenizer) and the sequence length against it. The files are written under a
     * temporary directory in --out ({@link Staging}) and moved into place when they are all complete, so a
     * refused or failed run leaves the output as it was (with --force too).
     */
    private int convertRecipe(PrintWriter stdout, Progress bar) {
        Recipe r = recipe == null ? Recipe.builtIn("default") : Recipe.resolve(recipe);
        List<VariantSpec> specs = r.variantsFor(chips, seqLen);
        List<String> texts = calibrationTexts(specs.stream().anyMatch(s -> s.precision().calibrated()));
        List<String> names = new ArrayList<>();
        Map<String, List<VariantSpec>> builds = RecipeConversion.builds(specs);
        for (List<VariantSpec> build : builds.values()) {
            names.add(RecipeConversion.packageName(build.get(0)));
            names.add(RecipeConversion.archiveName(build.get(0)));
        }
        names.add(RecipeConversion.TOKENIZER);
        if (samples > 0) {
            names.addAll(GoldenData.fileNames());
        }
        names.add(VariantsManifest.FILE_NAME);
        checkDirectory(names);
        // --force replaces this run's names; what an earlier convert wrote under other names goes once this run's is in place
        PreviousOutput previous = force ? PreviousOutput.in(out) : null;
        long chipCount = specs.stream().map(VariantSpec::chip).distinct().count();
        // Variants that differ only in the chip share one package (VariantSpec.buildId): K packages serve N variants.
        bar.note("recipe " + r.name() + ": " + specs.size() + (specs.size() == 1 ? " variant" : " variants") + " for "
                + chipCount + (chipCount == 1 ? " chip" : " chips") + ", " + builds.size() + " distinct "
                + (builds.size() == 1 ? "package" : "packages") + ", at sequence length " + seqLen);
        try (SourceModel model = open(bar); OnnxRuntimeReference ort = onnxRuntime(model)) {
            checkSeqLen(model);
            VariantsManifest m;
            try (Staging staging = Staging.in(out)) {
                FidelityCheck check = fidelityCheck(model, bar, true, true, ort);
                m = RecipeConversion.run(model, r, specs, check, staging.dir(), bar, texts);
                staging.commit(names);
            }
            stdout.println("wrote " + m.variants().size() + " variants (" + builds.size() + " distinct "
                    + (builds.size() == 1 ? "package" : "packages") + ") and " + VariantsManifest.FILE_NAME + " to " + out);
            if (previous != null) {
                reportRemoval(stdout, previous, names);
            }
            gate(m.variants(), false);
        }
        return AneForge.OK;
    }

    /** Removes what the convert before this --force run wrote and this one did not, and says what went. */
    private void reportRemoval(PrintWriter stdout, PreviousOutput previous, List<String> names) {
        if (previous.unreadable() != null) {
            stdout.println("note: kept the files of the earlier convert in " + out + " that this run did not replace: its "
                    + VariantsManifest.FILE_NAME + " could not be read (" + previous.unreadable() + "), so what it wrote "
                    + "is not known; remove them by hand");
            return;
        }
        PreviousOutput.Removal r = previous.removeAllBut(names);
        if (!r.removed().isEmpty()) {
            stdout.println("removed " + r.removed().size() + " of the earlier convert's files in " + out + " that this run "
                    + "does not write: " + String.join(", ", r.removed()));
        }
        r.kept().forEach((name, why) -> stdout.println("note: kept " + out.resolve(name) + ", which the earlier convert's "
                + VariantsManifest.FILE_NAME + " names: " + why));
        r.partly().forEach((name, why) -> stdout.println("warning: removed " + out.resolve(name) + " only partly: " + why));
    }

    private int convertOne(PrintWriter stdout, Progress bar) {
        if (out.getFileName() == null || !out.getFileName().toString().endsWith(".mlpackage")) {
            throw new UsageException("single-variant mode writes one package: pass --out <name>.mlpackage");
        }
        if (chips.size() > 1) {
            throw new UsageException("single-variant mode builds for one chip, got --chips " + String.join(",", chips)
                    + ": pass one chip, or drop --layout/--precision/--target to use a recipe");
        }
        String chip = chips.isEmpty() ? SINGLE_DEFAULT_CHIP : chips.get(0);
        if (ChipCatalog.builtIn().chip(chip).isEmpty()) { // the words of the recipe's check (Recipe.variantsFor)
            throw new UsageException("unknown chip '" + chip + "': use catalog ids "
                    + ChipCatalog.builtIn().chips().stream().map(Chip::id).toList());
        }
        Layout l;
        Precision p;
        try {
            l = layout == null ? Layout.ANE : Layout.parse(layout);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--layout: " + e.getMessage());
        }
        try {
            p = precision == null ? Precision.FP16 : Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--precision: " + e.getMessage());
        }
        Target t = p.minimumTarget().atLeast(Recipe.DEFAULT_MINIMUM_TARGET) ? p.minimumTarget() : Recipe.DEFAULT_MINIMUM_TARGET;
        if (target != null) {
            t = parseTarget(target);
            if (!t.atLeast(p.minimumTarget())) {
                String min = p.minimumTarget().name().toLowerCase(Locale.ROOT);
                throw new UsageException("--precision " + p + " needs deployment target " + min + " or newer ("
                        + p.minimumTarget().os() + "), got --target " + target + ": pass --target " + min
                        + " or leave --target out");
            }
        }
        VariantSpec vs;
        try {
            vs = attentionChunk == null ? VariantSpec.of(chip, t, l, p, seqLen)
                    : new VariantSpec(chip, t, l, p, seqLen, attentionChunk);
        } catch (IllegalArgumentException e) {
            throw new UsageException("cannot build this variant: " + e.getMessage());
        }
        List<String> texts = calibrationTexts(vs.precision().calibrated());
        Path parent = out.toAbsolutePath().normalize().getParent();
        String name = out.getFileName().toString();
        checkOutputPlace(parent, List.of(name));
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !force) {
            throw new UsageException(out + " already exists: pass --force to replace it or choose another --out");
        }
        try (SourceModel model = open(bar); OnnxRuntimeReference ort = onnxRuntime(model)) {
            checkSeqLen(model);
            VariantEntry e;
            try (Staging staging = Staging.in(parent)) {
                Path staged = staging.dir().resolve(name);
                FidelityCheck check = fidelityCheck(model, bar, false, false, ort);
                bar.begin("converting " + vs.id(), 1);
                WeightCache weights = WeightCache.none();
                if (vs.precision().calibrated()) {
                    List<String> calibrationTexts = texts == null ? Calibration.texts(model.model()) : texts;
                    bar.note(RecipeConversion.calibratingNote(calibrationTexts.size()));
                    weights = WeightCache.uncached(Calibration.measure(model.model(), model.tokenizer(), calibrationTexts,
                            vs.seqLen()));
                }
                ConvertedVariant cv = VariantConverter.convert(model.model(), vs, staged, null, weights);
                Map<String, FidelityReport> fidelity = check.measure(staged);
                e = RecipeConversion.entry(cv, Recipe.builtIn("default").computeUnits(), fidelity);
                staging.commit(List.of(name));
            }
            bar.step(vs.id(), RecipeConversion.summary(e, reference));
            bar.end();
            // Single mode writes the package only; the digest is the one its deterministic archive has (what recipe
            // mode's variants.json and the registry record), so the two modes can be compared.
            stdout.println("wrote " + out + " (" + vs.id() + "; no archive written, its deterministic .mlpackage.zip "
                    + "would have sha256 " + e.sha256() + ")");
            gate(List.of(e), true);
        }
        return AneForge.OK;
    }

    /**
     * The texts of {@code --calibration} (null when not given: the built-in ones); refused when no variant
     * calibrates ({@code gptq} false), the file cannot be read, or it has no text.
     */
    private List<String> calibrationTexts(boolean calibrated) {
        if (calibration == null) {
            return null;
        }
        if (!calibrated) {
            throw new UsageException("--calibration gives GPTQ and W8A8 their calibration texts, and no variant of this run is "
                    + "calibrated: drop --calibration, or ask for a -gptq precision (e.g. int4-block32-affine-gptq) or w8a8[-affine]");
        }
        List<String> texts;
        try {
            texts = Files.readAllLines(calibration, java.nio.charset.StandardCharsets.UTF_8).stream()
                    .filter(line -> !line.isBlank()).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new UsageException("--calibration: cannot read " + calibration + ": " + IoProblems.describe(e, calibration)
                    + (e instanceof java.nio.charset.CharacterCodingException
                    || e.getCause() instanceof java.nio.charset.CharacterCodingException ? ""
                    : ": pass a text file, one calibration text per line"));
        }
        if (texts.isEmpty()) {
            throw new UsageException("--calibration: " + calibration + " has no texts; write one text per line");
        }
        return texts;
    }

    static Target parseTarget(String text) {
        for (Target t : Target.values()) {
            if (t.name().equalsIgnoreCase(text.trim())) {
                return t;
            }
        }
        throw new UsageException("--target: unknown deployment target '" + text + "': use one of "
                + String.join(", ", Stream.of(Target.values()).map(x -> x.name().toLowerCase(Locale.ROOT)).toList()));
    }

    /** {@code --head}: convert (the one head the config names), none, or a kind. */
    private io.aneforge.model.HeadChoice headChoice() {
        try {
            return io.aneforge.model.HeadChoice.parse(head);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The options that need neither the recipe nor the source. */
    private void checkOptions() {
        headChoice();
        if (samples < 0 || samples > FidelityCheck.MAX_SAMPLES) {
            throw new UsageException("--samples must be in 0.." + FidelityCheck.MAX_SAMPLES + " (0 skips the fidelity "
                    + "metrics), got " + samples);
        }
        FidelityCheck.checkMinCosine(minCosine);
        if (minCosine != null && samples == 0) {
            throw new UsageException("--min-cosine needs the fidelity metrics, but --samples 0 skips them: pass "
                    + "--samples 1 or more, or drop --min-cosine");
        }
        if (reference == Reference.ONNXRUNTIME && samples == 0) {
            throw new UsageException("--reference onnxruntime measures the fidelity metrics against ONNX Runtime, but "
                    + "--samples 0 skips them: pass --samples 1 or more, or drop --reference");
        }
        checkMinSeqLen(seqLen);
    }

    static void checkMinSeqLen(int seqLen) {
        if (seqLen < MIN_SEQ_LEN) {
            throw new UsageException("--seq-len must be at least " + MIN_SEQ_LEN + " (room for the tokenizer's two "
                    + "special tokens, [CLS] and [SEP] of a BERT input), got " + seqLen + ": pass --seq-len "
                    + MIN_SEQ_LEN + " or more");
        }
    }

    /**
     * Golden outputs on the fixed samples, or no measurement at all with {@code --samples 0}. Deferred: they
     * are computed when first needed, in recipe mode while the variants convert.
     *
     * @param concurrent whether predictions run while conversions use the kernel pool (recipe mode); then
     *                   they use the pool as it is configured ({@code aneforge.threads}) instead of asking for
     *                   one thread per core: a model with another thread count resizes the shared pool,
     *                   and shrinking it under a running conversion left that conversion waiting forever
     * @param goldenData also compute the golden data for the registry (recipe mode: {@code golden-*.bin})
     */
    private FidelityCheck fidelityCheck(SourceModel model, Progress bar, boolean concurrent, boolean goldenData,
                                        OnnxRuntimeReference ort) {
        if (samples == 0) {
            bar.note("--samples 0: not measuring fidelity" + (goldenData ? " and writing no golden data (publish --dir"
                    + " of it then needs --without-golden-data --reason TEXT: the version's accuracy is not checked)" : ""));
            return FidelityCheck.none();
        }
        // a masked LM is measured on samples carrying its mask token, unless its tokenizer has none (Golden.sampleInputs)
        MaskedSamples.plainSamplesNote(model.model(), model.tokenizer()).ifPresent(bar::note);
        // a model with token_type_ids is measured on the fixed sentence pairs (Golden.sampleInputs)
        String kind = model.model().tokenTypeInput() ? " fixed sentence pairs" : " fixed samples";
        if (ort != null) {
            bar.note("fidelity reference: ONNX Runtime running " + ort.onnx() + " on the first " + samples + kind
                    + (goldenData ? "; the golden data (golden FP32 outputs on the " + Samples.fixed().size() + kind
                    + ") stays the converter's FP32 graph's, what the converter worker stores" : ""));
            int threads = concurrent ? Parallel.threads() : 0;
            return FidelityCheck.deferred(model, samples, seqLen, threads, goldenData, ort::run);
        }
        bar.note(goldenData ? "computing golden FP32 outputs on the " + Samples.fixed().size() + kind + " (the "
                + "registry's golden data; fidelity uses the first " + samples + ")"
                : "computing golden FP32 outputs on " + samples + (model.model().tokenTypeInput() ? kind : " samples"));
        return FidelityCheck.deferred(model, samples, seqLen, concurrent ? Parallel.threads() : 0, goldenData);
    }

    /**
     * With {@code --reference onnxruntime}: ONNX Runtime with the source's {@code onnx/model.onnx}, its inputs and
     * outputs matched with those the packages will have (the FP32 graph's: every variant's are the same), before
     * anything is converted; a source without that file is refused here. Null for {@code fp32-graph}.
     */
    private OnnxRuntimeReference onnxRuntime(SourceModel model) {
        if (reference != Reference.ONNXRUNTIME) {
            return null;
        }
        checkSeqLen(model);
        Path onnx = SourceOnnx.of(source, model, root.env, "drop --reference onnxruntime (the default, --reference "
                + "fp32-graph, measures against the converter's own FP32 graph)");
        io.aneforge.mil.Program program = VariantConverter.build(model.model(), Golden.referenceSpec(seqLen)).program();
        Map<String, int[]> outputs = new LinkedHashMap<>();
        program.outputs().forEach(v -> outputs.put(v.name(), v.shape()));
        Set<String> inputs = new HashSet<>();
        program.inputs().forEach(v -> inputs.add(v.name()));
        return OnnxRuntimeReference.open(onnx, seqLen, inputs, outputs);
    }

    private SourceModel open(Progress bar) {
        bar.note("loading " + source);
        SourceModel model;
        try {
            model = SourceModel.open(source, root.env, headChoice());
        } catch (io.aneforge.source.ModelSourceException e) {
            throw new UsageException("--source: " + e.getMessage());
        }
        if (tokenTypes) {
            try {
                model.takeTokenTypes();
            } catch (IllegalArgumentException e) {
                model.close();
                throw new UsageException("--token-types: " + e.getMessage() + " (drop --token-types)");
            }
        }
        if (model.model().head() != null) {
            bar.note("converting the checkpoint's " + model.model().head().describe(seqLen) + " (--head none outputs the"
                    + " base model's hidden states instead)");
            if (!tokenTypes && model.model().head().kind() != io.aneforge.model.TaskHead.Kind.MASKED_LM
                    && model.model().config() instanceof io.aneforge.model.BertConfig c && c.typeVocabSize() > 1) {
                // a cross-encoder (a reranker) reads a second segment; without the input every token is segment 0
                bar.note("note: this model has " + c.typeVocabSize() + " token types; its packages read every token as"
                        + " segment 0, so a sentence pair is read as one text: pass --token-types for pairs");
            }
        }
        if (model.model().absentHead() != null) {
            // all-mpnet-base-v2: an MPNetForMaskedLM config over MPNetModel's weights, as sentence-transformers save it
            bar.note("note: config.json names " + model.model().absentHead() + ", but the checkpoint holds none of that"
                    + " head's tensors: the packages output the base model's hidden states (--head none converts the"
                    + " same without this note)");
        }
        List<String> heads = model.model().droppedHeads();
        if (model.model().head() != null && model.model().head().kind() == io.aneforge.model.TaskHead.Kind.MASKED_LM
                && heads.equals(List.of(io.aneforge.model.TaskHead.SEQ_RELATIONSHIP))) {
            // bert-base-uncased's case: the packages do output the masked-LM head's logits, not hidden states
            bar.note(nextSentenceNote(model));
        } else if (!heads.isEmpty()) {
            // a fine-tuned classifier converts to its encoder: said plainly, since fidelity (against the same graph)
            // cannot show it
            bar.note("note: the checkpoint's task head (" + String.join(", ", heads) + ") is not converted: the "
                    + "packages output the base model's hidden states, not the head's outputs (e.g. a classifier's "
                    + "logits); apply the head to them yourself");
        }
        return model;
    }

    /**
     * The note for a fill-mask conversion that dropped the checkpoint's next-sentence head: how to keep it, named only
     * where it would convert. A {@code *ForPreTraining} config converts it without {@code --head}; a
     * {@code BertForMaskedLM} one with {@code --head pre-training}, which needs the pooler and both
     * {@code cls.seq_relationship} tensors (read from the safetensors header, as the import that would refuse does).
     */
    private static String nextSentenceNote(SourceModel model) {
        String dropped = "note: the checkpoint's task head (" + io.aneforge.model.TaskHead.SEQ_RELATIONSHIP + ") is not"
                + " converted: it is BERT's next-sentence head";
        String both = " beside the masked-LM head (outputs prediction_logits and seq_relationship_logits)";
        if (model.model().head().chosenBeyondArchitecture()) {
            return dropped + ", left out by --head fill-mask; drop --head to convert it" + both;
        }
        List<String> missing;
        try {
            missing = io.aneforge.model.ModelImporter.absentTensors(model.snapshot(),
                    io.aneforge.model.TaskHead.NEXT_SENTENCE_TENSORS);
        } catch (java.io.IOException e) {
            return dropped; // the weights imported a moment ago: a note is not worth failing the conversion for
        }
        return missing.isEmpty() ? dropped + "; --head pre-training converts it" + both
                : dropped + ", and this checkpoint lacks tensors it needs (" + String.join(", ", missing) + "), so it"
                + " cannot be converted";
    }

    /**
     * --seq-len against the positions the model has: {@code max_position_embeddings}, less RoBERTa's first
     * position id ({@code pad_token_id + 1}), which the graph builders check too, mid-run and naming an internal
     * variant.
     */
    private void checkSeqLen(SourceModel model) {
        checkSeqLen(seqLen, model.model().config());
    }

    static void checkSeqLen(int seqLen, io.aneforge.model.ArchitectureConfig config) {
        int max = config.maxSequenceLength();
        if (seqLen > max) {
            int offset = config.maxPositions() - max;
            throw new UsageException("--seq-len " + seqLen + " exceeds the model's " + max + " positions ("
                    + (offset == 0 ? "max_position_embeddings in config.json"
                    : "max_position_embeddings " + config.maxPositions() + " in config.json, less the " + offset
                    + " before RoBERTa's first position, pad_token_id + 1") + "): pass --seq-len " + max + " or less");
        }
    }

    /**
     * The output directory must not hold files of this run unless --force (then exactly those are replaced), and
     * must not be a filesystem root or the home directory: a recipe run spreads dozens of packages, archives,
     * variants.json and tokenizer.json over --out, where it is almost surely a slip (`--out /`, `--out ~`).
     * Other non-empty directories stay allowed (e.g. `--out .` in a project): only this run's names are written.
     */
    private void checkDirectory(List<String> names) {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UsageException("--out " + out + " is a file: pass a directory for recipe mode (or an .mlpackage "
                    + "path with --layout/--precision for one variant)");
        }
        Path place = real(out);
        String what = place.getParent() == null ? "the filesystem root"
                : place.equals(real(Path.of(System.getProperty("user.home")))) ? "your home directory" : null;
        if (what != null) {
            throw new UsageException("--out " + out + " is " + what + ": a recipe run writes its packages, variants.json "
                    + "and tokenizer.json straight into --out; pass a directory of their own, e.g. --out ./variants");
        }
        checkOutputPlace(out.toAbsolutePath().normalize(), names);
        List<Path> existing = names.stream().map(out::resolve).filter(p -> Files.exists(p, LinkOption.NOFOLLOW_LINKS))
                .toList();
        if (!existing.isEmpty() && !force) {
            throw new UsageException(out + " already holds output of a conversion (" + existing.get(0).getFileName()
                    + (existing.size() > 1 ? " and " + (existing.size() - 1) + " more" : "")
                    + "): pass --force to replace it or choose another --out");
        }
    }

    /**
     * {@code dir}, where the output {@code names} go, can be created or written (no file on its path) and the
     * output does not overlap a local --source: it is not the model's directory or inside it, and no output
     * path is, or holds, the model (--force would replace its files).
     */
    private void checkOutputPlace(Path dir, List<String> names) {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && !Files.isDirectory(existing)) {
            throw new UsageException("--out " + out + ": " + existing + " is a file, not a directory: choose another --out");
        }
        if (existing != null && !Files.isWritable(existing)) {
            throw new UsageException("--out " + out + ": cannot write into " + existing + " (permission denied): "
                    + "choose another --out");
        }
        if (ModelSource.isHubSource(source) || !Files.isDirectory(Path.of(source))) {
            return; // a Hub snapshot lives in the Hub cache; a missing directory is refused when the source opens
        }
        Path model = real(Path.of(source));
        Path outDir = real(dir);
        boolean overlaps = outDir.startsWith(model);
        for (String name : names) {
            overlaps |= model.startsWith(outDir.resolve(name));
        }
        if (overlaps) {
            throw new UsageException("--out " + out + " overlaps --source " + source + " (the output would be written "
                    + "among, or replace, the model's own files): choose an --out outside the model directory");
        }
    }

    /** The absolute path with symbolic links of its existing part resolved, so two spellings of a directory compare equal. */
    private static Path real(Path path) {
        Path abs = path.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }

    private void gate(List<VariantEntry> entries, boolean single) {
        if (minCosine == null) {
            return;
        }
        List<String> below = new ArrayList<>();
        for (VariantEntry e : entries) {
            double c = FidelityCheck.worstCosine(e.fidelity());
            if (!(c >= minCosine)) {
                below.add(e.id() + String.format(Locale.ROOT, " (%.6f)", c));
            }
        }
        if (!below.isEmpty()) {
            throw new CommandFailure(below.size() + " variant(s) below --min-cosine " + minCosine
                    + (reference == Reference.FP32_GRAPH ? "" : " against " + reference.id()) + ": "
                    + String.join(", ", below) + (single ? "; the package is written, see its numbers above"
                    : "; the files are written, see " + VariantsManifest.FILE_NAME));
        }
    }

    static void delete(Path path) {
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new CommandFailure("cannot delete " + path + ": " + IoProblems.describe(e, path), e);
        }
    }
}

package io.aneforge.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.predict.ClassifierReading;
import io.aneforge.cli.predict.ClassifierReading.Label;
import io.aneforge.cli.predict.MaskPredictions;
import io.aneforge.cli.predict.NextSentence;
import io.aneforge.cli.predict.TokenVocabulary;
import io.aneforge.cli.run.PackageRunner;
import io.aneforge.model.TaskHead;
import io.aneforge.convert.Golden;
import io.aneforge.graph.Graphs;
import io.aneforge.source.ModelSource;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code aneforge predict}: run a package on one text and show its outputs. */
@Command(name = "predict", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Run a package on a text and print each output's shape and first values.",
            "A task head's logits are read as Hugging Face's pipelines read them: a classifier's label and softmax "
                    + "score, a 1-label one's sigmoid, a multi-label one's sigmoid per label (and the labels above 0.5, "
                    + "aneforge's cut), a regression's raw values, a fill-mask package's top 5 tokens with their softmax scores at each mask token "
                    + "([MASK], RoBERTa's <mask>) of --text; a pre-training package's too, and with --text-pair its "
                    + "next-sentence probabilities (softmax: the second text follows the first, or is a random one).",
            "A sentence-transformers CrossEncoder (config.json's sentence_transformers.activation_fn or "
                    + "sbert_ce_default_activation_function) is scored as CrossEncoder.predict scores it: every label "
                    + "through that activation (Identity, Sigmoid, Tanh, Softmax; another torch class gives the raw "
                    + "logits, with a warning)."})
public final class PredictCommand implements Callable<Integer> {

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    @Option(names = "--package", required = true, paramLabel = "<x.mlpackage>",
            description = "The package to run (an .mlpackage directory written by convert).")
    Path pkg;

    @Option(names = "--text", required = true, description = "The input text.")
    String text;

    @Option(names = "--text-pair", paramLabel = "TEXT", description = "A second text (a cross-encoder's passage): the "
            + "pair is encoded with the tokenizer's pair template, the second text in segment 1 (token_type_ids, when "
            + "the package takes them: convert --token-types), truncated by tokenizer.json's strategy (default longest first).")
    String textPair;

    @Option(names = "--tokenizer", paramLabel = "<tokenizer.json>", description = "Tokenizer (default: tokenizer.json next to the "
            + "package, as convert writes it, or the one of --source).")
    Path tokenizer;

    @Option(names = "--source", paramLabel = "<dir|hf:org/name@rev>", description = "Take the tokenizer from this model.")
    String source;

    @Option(names = "--values", defaultValue = "8", paramLabel = "N", description = "Values to print per output (default: ${DEFAULT-VALUE}).")
    int values;

    @Option(names = "--json", description = "Print the outputs as JSON.")
    boolean json;

    @Option(names = "--pool", paramLabel = "mean|cls", description = "Also print the sentence embedding, "
            + SENTENCE_EMBEDDING + ", pooled from last_hidden_state: mean over the real tokens (sentence-transformers' "
            + "mean pooling) or the first token ([CLS]).")
    String pool;

    @Option(names = "--normalize", description = "L2-normalize the pooled embedding (sentence-transformers' Normalize "
            + "module, as all-MiniLM-L6-v2 uses it); needs --pool.")
    boolean normalize;

    /** The extra output --pool adds, named as sentence-transformers names it. */
    static final String SENTENCE_EMBEDDING = "sentence_embedding";

    /** One output: its shape and first values. */
    public record Output(List<Integer> shape, List<Float> first) {
    }

    /**
     * What predict prints with --json.
     *
     * @param tokens the text's tokens the package takes (at most its sequence length)
     * @param truncatedTokens the text's tokens beyond the sequence length, which the package does not see
     */
    public record Result(String packagePath, String engine, int tokens, int truncatedTokens, Map<String, Output> outputs,
                         @JsonInclude(JsonInclude.Include.NON_NULL) Label label,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<Label> labels,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<String> predictedLabels,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<ClassifierReading.Value> values,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<MaskPredictions.Mask> masks,
                         @JsonInclude(JsonInclude.Include.NON_NULL) ClassifierReading.CrossEncoderScores crossEncoder,
                         @JsonInclude(JsonInclude.Include.NON_NULL) NextSentence nextSentence) {
    }

    /**
     * What a head's logits say, by the package's task and problem type: a classifier's {@code label} (softmax, as
     * Hugging Face's text-classification pipeline gives it; for a single label without a multi-label problem type,
     * its sigmoid), a multi-label one's {@code labels} (every label's sigmoid) and {@code predictedLabels} (those
     * above 0.5), a regression's raw {@code values}, a fill-mask package's {@code masks}, a pre-training package's
     * {@code masks} and, for a text pair, its {@code nextSentence}, a sentence-transformers CrossEncoder's
     * {@code crossEncoder} scores (instead of the pipeline's reading); null for what the package is not.
     */
    record Reading(Label label, List<Label> labels, List<String> predictedLabels, List<ClassifierReading.Value> values,
                   List<MaskPredictions.Mask> masks, ClassifierReading.CrossEncoderScores crossEncoder,
                   NextSentence nextSentence) {
        static final Reading NONE = new Reading(null, null, null, null, null, null, null);

        Reading(Label label, List<Label> labels, List<String> predictedLabels, List<ClassifierReading.Value> values,
                List<MaskPredictions.Mask> masks) {
            this(label, labels, predictedLabels, values, masks, null, null);
        }
    }

    @Override
    public Integer call() throws IOException {
        if (values < 1) {
            throw new UsageException("--values must be at least 1, got " + values);
        }
        if (pool != null && !pool.equals("mean") && !pool.equals("cls")) {
            throw new UsageException("--pool must be mean or cls, got '" + pool + "'");
        }
        if (normalize && pool == null) {
            throw new UsageException("--normalize normalizes the pooled embedding: add --pool mean (or cls)");
        }
        PrintWriter out = spec.commandLine().getOut();
        // the package first: a wrong --package is the problem to report, not the tokenizer that is not beside it
        try (PackageRunner runner = PackageRunner.open(pkg)) {
            Path tokenizerJson = tokenizerPath();
            try (Tokenizer tok = load(tokenizerJson)) {
                runner.checkTokenizer(tok, tokenizerJson.toString(), pkg,
                        "pass the tokenizer.json of the package's model (--tokenizer or --source)");
                int seqLen = runner.seqLen();
                boolean tokenTypes = runner.program().inputs().stream()
                        .anyMatch(v -> v.name().equals(Graphs.TOKEN_TYPE_IDS));
                Map<String, FloatTensor> inputs;
                if (textPair == null) {
                    inputs = Golden.inputs(tok, List.of(text), seqLen, tokenTypes).get(0);
                } else {
                    io.aneforge.tokenizer.Encoding pair;
                    try {
                        pair = tok.encodePair(text, textPair, seqLen);
                    } catch (IllegalArgumentException e) {
                        throw new UsageException("--text-pair: " + e.getMessage());
                    }
                    if (!tokenTypes && Arrays.stream(pair.typeIds()).anyMatch(t -> t != 0)) {
                        // fed without its segment ids the model would read the pair as one text: a wrong answer, silently
                        throw new UsageException("--text-pair: the tokenizer gives the second text segment id 1, but " + pkg
                                + " has no " + Graphs.TOKEN_TYPE_IDS + " input, so the model would read the pair as one"
                                + " text: convert the model again with --token-types");
                    }
                    inputs = Golden.inputs(pair, tokenTypes);
                }
                int tokens = (int) Arrays.stream(toInts(inputs.get("attention_mask"))).filter(v -> v != 0).count();
                if (tokens == 0) {
                    throw new UsageException("--text " + (text.isEmpty() ? "\"\"" : "'" + text + "'") + " gives no tokens "
                            + "with " + tokenizerJson + " (a GPT-2 tokenizer adds no special tokens), so every position "
                            + "would be masked: pass some text");
                }
                int truncated = tokens < seqLen ? 0 : Math.max(0, untruncatedTokens(tok, text, textPair) - seqLen);
                Map<String, String> metadata = runner.program().metadata();
                TaskHead.Kind task = TaskHead.Kind.ofId(metadata.getOrDefault("aneforge.task", ""));
                boolean preTraining = task == TaskHead.Kind.PRE_TRAINING;
                boolean fillMask = task != null && task.predictsTokens();
                TokenVocabulary vocab = fillMask ? TokenVocabulary.read(tokenizerJson) : null;
                int[] masked = fillMask ? maskPositions(vocab, toInts(inputs.get("input_ids")), tokens, truncated,
                        preTraining) : null;
                Map<String, FloatTensor> outputs = runner.predict(inputs);
                if (pool != null) {
                    outputs = new LinkedHashMap<>(outputs);
                    outputs.put(SENTENCE_EMBEDDING, pooled(outputs.get(Graphs.LAST_HIDDEN_STATE), tokens));
                }
                Map<String, Output> shown = new LinkedHashMap<>();
                for (Map.Entry<String, FloatTensor> e : outputs.entrySet()) {
                    FloatTensor t = e.getValue();
                    int n = Math.min(values, t.data().length);
                    shown.put(e.getKey(), new Output(Arrays.stream(t.shape()).boxed().toList(),
                            IntStream.range(0, n).mapToObj(i -> t.data()[i]).toList()));
                }
                Reading reading = fillMask
                        ? new Reading(null, null, null, null, MaskPredictions.top(outputs.get(preTraining
                                ? TaskHead.PREDICTION_LOGITS : Graphs.LOGITS), masked, MaskPredictions.TOP, vocab), null,
                                // one text has no "next" sentence to judge: the probabilities only for a pair
                                preTraining && textPair != null
                                        ? NextSentence.of(outputs.get(TaskHead.SEQ_RELATIONSHIP_LOGITS)) : null)
                        : read(metadata, outputs.get(Graphs.LOGITS));
                if (reading.crossEncoder() != null && reading.crossEncoder().warning() != null) {
                    spec.commandLine().getErr().println("warning: " + reading.crossEncoder().warning());
                }
                if (json) {
                    out.println(VariantsManifest.json(new Result(pkg.toString(), runner.engine(), tokens, truncated,
                            shown, reading.label(), reading.labels(), reading.predictedLabels(), reading.values(),
                            reading.masks(), reading.crossEncoder(), reading.nextSentence())));
                } else {
                    out.println(tokens + " tokens (" + (truncated > 0 ? "the text has " + (tokens + truncated)
                            + ": the last " + truncated + " cut off at the package's sequence length " + seqLen
                            : "padded to " + seqLen)
                            + "), engine " + runner.engine());
                    for (Map.Entry<String, Output> e : shown.entrySet()) {
                        out.println(e.getKey() + "  shape (" + e.getValue().shape().stream().map(String::valueOf)
                                .collect(Collectors.joining(", ")) + ")  first " + e.getValue().first().size() + ": "
                                + e.getValue().first().stream().map(v -> String.format(Locale.ROOT, "%.6f", v))
                                .collect(Collectors.joining(", ")));
                    }
                    print(out, reading, vocab);
                }
            }
        }
        return AneForge.OK;
    }

    /**
     * A sequence classifier's {@code logits (1, L)} read as Hugging Face's text-classification pipeline reads them
     * ({@link ClassifierReading#function}: by the package's {@code aneforge.problemType}, when config.json stated
     * one, and the label count), when it has {@code aneforge.id2label}; nothing for other packages (no labels, or
     * per-token logits).
     */
    Reading read(Map<String, String> metadata, FloatTensor logits) {
        String id2label = metadata.get("aneforge.id2label");
        if (id2label == null || !ClassifierReading.readable(logits)) {
            return Reading.NONE;
        }
        String type = metadata.get(TaskHead.PROBLEM_TYPE_METADATA);
        TaskHead.ProblemType stated = type == null ? null : TaskHead.ProblemType.ofId(type);
        if (type != null && stated == null) {
            throw new UsageException(pkg + " has " + TaskHead.PROBLEM_TYPE_METADATA + " '" + type + "', which this "
                    + "predict does not know how to read: use the aneforge version that converted it");
        }
        String activationFn = metadata.get(TaskHead.ACTIVATION_FN_METADATA);
        if (activationFn != null) {
            // a sentence-transformers CrossEncoder: its predict's scores, not the text-classification pipeline's
            return new Reading(null, null, null, null, null,
                    ClassifierReading.crossEncoder(activationFn, id2label, logits), null);
        }
        int labels = logits.shape()[1];
        return switch (ClassifierReading.function(stated, labels)) {
            case SOFTMAX -> new Reading(ClassifierReading.softmax(id2label, logits), null, null, null, null);
            case SIGMOID -> {
                List<Label> all = ClassifierReading.sigmoid(id2label, logits);
                if (stated != TaskHead.ProblemType.MULTI_LABEL) {
                    // one label, no multi-label problem type: the pipeline's answer is that label and its sigmoid
                    yield new Reading(all.get(0), null, null, null, null);
                }
                yield new Reading(null, all, all.stream().filter(l -> l.score() > ClassifierReading.MULTI_LABEL_THRESHOLD)
                        .map(Label::label).toList(), null, null);
            }
            case NONE -> new Reading(null, null, null, ClassifierReading.raw(id2label, logits), null);
        };
    }

    private static void print(PrintWriter out, Reading r, TokenVocabulary vocab) {
        if (r.label() != null) {
            out.println(String.format(Locale.ROOT, "label %s  score %.6f", r.label().label(), r.label().score()));
        }
        if (r.labels() != null) {
            out.println("labels above " + ClassifierReading.MULTI_LABEL_THRESHOLD + " (a sigmoid per label): "
                    + (r.predictedLabels().isEmpty() ? "none" : String.join(", ", r.predictedLabels())));
            out.println("scores  " + r.labels().stream().map(l -> String.format(Locale.ROOT, "%s %.6f", l.label(),
                    l.score())).collect(Collectors.joining("  ")));
        }
        if (r.values() != null) {
            out.println("value (regression)  " + r.values().stream().map(v -> String.format(Locale.ROOT, "%s %.6f",
                    v.label(), v.value())).collect(Collectors.joining("  ")));
        }
        if (r.crossEncoder() != null) {
            out.println("scores (CrossEncoder.predict, " + r.crossEncoder().applied() + " of "
                    + r.crossEncoder().activationFn() + ")  " + r.crossEncoder().scores().stream()
                    .map(v -> String.format(Locale.ROOT, "%s %.6f", v.label(), v.value()))
                    .collect(Collectors.joining("  ")));
        }
        if (r.masks() != null) {
            for (MaskPredictions.Mask m : r.masks()) {
                out.println(vocab.maskToken() + " at token " + m.position() + ":  " + m.candidates().stream()
                        .map(c -> String.format(Locale.ROOT, "'%s' %.6f", c.token(), c.score()))
                        .collect(Collectors.joining("  ")));
            }
        }
        if (r.nextSentence() != null) {
            out.println(String.format(Locale.ROOT, "next sentence (softmax of seq_relationship_logits):  follows %.6f"
                    + "  random %.6f", r.nextSentence().isNext(), r.nextSentence().notNext()));
        }
    }

    /**
     * The mask tokens' positions among the package's tokens; a text without one (or whose masks were cut off at the
     * sequence length) is a usage error naming the mask token to write, except for a pre-training package given a
     * pair: its next-sentence answer needs no mask.
     */
    private int[] maskPositions(TokenVocabulary vocab, int[] ids, int tokens, int truncated, boolean preTraining) {
        int[] positions = MaskPredictions.positions(ids, tokens, vocab.maskId());
        if (positions.length == 0 && preTraining && textPair != null) {
            return positions;
        }
        if (positions.length == 0 && preTraining) {
            throw new UsageException("--text has no " + vocab.maskToken() + " token" + (truncated > 0 && textHasMask(vocab)
                    ? " within the package's " + tokens + " tokens (the text is cut off at its sequence length)" : "")
                    + ", and " + pkg + " is a pre-training package: it predicts the token at each " + vocab.maskToken()
                    + " (write it where the word to predict goes, e.g. --text 'Paris is the " + vocab.maskToken()
                    + " of France.') and, given --text-pair, whether the second text follows the first");
        }
        if (positions.length == 0) {
            throw new UsageException("--text has no " + vocab.maskToken() + " token" + (truncated > 0 && textHasMask(vocab)
                    ? " within the package's " + tokens + " tokens (the text is cut off at its sequence length)" : "")
                    + ", and " + pkg + " is a fill-mask package: it predicts the token at each " + vocab.maskToken()
                    + ": write it where the word to predict goes, e.g. --text 'Paris is the " + vocab.maskToken()
                    + " of France.'");
        }
        return positions;
    }

    private boolean textHasMask(TokenVocabulary vocab) {
        return text.contains(vocab.maskToken()) || textPair != null && textPair.contains(vocab.maskToken());
    }

    /**
     * The sentence embedding {@code (1, C)} of {@code hidden} {@code (1, S, C)}: the mean of its first {@code tokens}
     * rows (the real tokens: predict's inputs put them first, then padding), computed in double as
     * sentence-transformers' mean pooling divides a sum by the mask's count, or the first row; then L2-normalized
     * with --normalize (dividing by max(norm, 1e-12), as torch's F.normalize does).
     */
    private float[] pooledValues(FloatTensor hidden, int tokens) {
        int c = hidden.shape()[2];
        double[] sum = new double[c];
        int rows = pool.equals("mean") ? tokens : 1;
        for (int s = 0; s < rows; s++) {
            for (int i = 0; i < c; i++) {
                sum[i] += hidden.data()[s * c + i];
            }
        }
        double norm = 0;
        for (int i = 0; i < c; i++) {
            sum[i] /= rows;
            norm += sum[i] * sum[i];
        }
        double scale = normalize ? 1 / Math.max(Math.sqrt(norm), 1e-12) : 1;
        float[] v = new float[c];
        for (int i = 0; i < c; i++) {
            v[i] = (float) (sum[i] * scale);
        }
        return v;
    }

    private FloatTensor pooled(FloatTensor hidden, int tokens) {
        if (hidden == null || hidden.shape().length != 3 || hidden.shape()[0] != 1) {
            throw new UsageException("--pool needs a (1, S, C) " + Graphs.LAST_HIDDEN_STATE + " output, and "
                    + pkg + " has none (a GPT-2 package outputs logits): drop --pool");
        }
        return new FloatTensor(new int[] {1, hidden.shape()[2]}, pooledValues(hidden, tokens));
    }

    /** The tokenizer; one that does not load is a usage error naming the file. */
    private static Tokenizer load(Path tokenizerJson) {
        try {
            return Tokenizer.load(tokenizerJson);
        } catch (IOException e) {
            throw new UsageException("cannot load " + (e instanceof io.aneforge.tokenizer.TokenizerException
                    ? e.getMessage() : tokenizerJson + ": " + io.aneforge.io.IoProblems.describe(e, tokenizerJson))
                    + ": pass the tokenizer.json of the package's model (--tokenizer or --source)");
        }
    }

    /**
     * How many tokens the whole text has (with the special tokens): encoded at a length it cannot fill, since
     * every token covers at least one UTF-8 byte of the text (or is one of the few special tokens).
     */
    private static int untruncatedTokens(Tokenizer tok, String text, String textPair) {
        int room = text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 16
                + (textPair == null ? 0 : textPair.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        int n = 0;
        for (int m : (textPair == null ? tok.encode(text, room) : tok.encodePair(text, textPair, room)).attentionMask()) {
            n += m != 0 ? 1 : 0;
        }
        return n;
    }

    private Path tokenizerPath() throws IOException {
        if (tokenizer != null && source != null) {
            throw new UsageException("pass either --tokenizer or --source, not both");
        }
        if (tokenizer != null) {
            if (Files.isDirectory(tokenizer)) {
                throw new UsageException("--tokenizer " + tokenizer + " is a directory: pass the tokenizer.json file "
                        + "(e.g. " + tokenizer.resolve("tokenizer.json") + ")");
            }
            if (!Files.isRegularFile(tokenizer)) {
                throw new UsageException("--tokenizer " + tokenizer + " does not exist: pass a tokenizer.json file");
            }
            return tokenizer;
        }
        if (source != null) {
            try {
                // the tokenizer alone: a Hub source's weights are not downloaded to tokenize a text
                return ModelSource.tokenizer(source, io.aneforge.cli.convert.SourceModel.hub(source, root.env));
            } catch (io.aneforge.source.ModelSourceException e) {
                throw new UsageException("--source: " + e.getMessage());
            }
        }
        Path parent = pkg.toAbsolutePath().getParent();
        Path next = parent == null ? null : parent.resolve("tokenizer.json");
        if (next == null || !Files.isRegularFile(next)) {
            throw new UsageException("no tokenizer.json next to " + pkg + ": pass --tokenizer <tokenizer.json> or "
                    + "--source <model>");
        }
        return next;
    }

    private static int[] toInts(FloatTensor t) {
        int[] v = new int[t.data().length];
        for (int i = 0; i < v.length; i++) {
            v[i] = (int) t.data()[i];
        }
        return v;
    }
}

package io.aneforge.cli.manifest;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.aneforge.cli.CommandFailure;
import io.aneforge.cli.UsageException;
import io.aneforge.io.IoProblems;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code variants.json}: what a {@code convert} run produced, next to the packages. It holds no
 * time stamps or absolute paths, so converting the same source twice writes the same bytes.
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param model where the weights came from
 * @param recipe which recipe chose the variants
 * @param seqLen the static sequence length of every variant
 * @param samples how many fixed sample sentences the fidelity metrics use
 * @param reference what computed the outputs the variants' {@code fidelity} compares with: {@code onnxruntime}
 *                  ({@code convert --reference onnxruntime}: ONNX Runtime running the source's
 *                  {@code onnx/model.onnx}); absent (null) for the converter's own FP32 graph, the default and all
 *                  that older converts measured with, so their bytes stay as they were. Readers ignore fields they
 *                  do not know (Jackson 3's default), so older ones read it too
 * @param tokenizer the copied {@code tokenizer.json}, relative to {@code variants.json}
 * @param variants in recipe order: per requested chip, the recipe's entries
 * @param golden the golden data files the registry's accuracy and benchmark jobs compare against (uploaded by
 *               {@code publish --dir}); absent with {@code --samples 0} and in the output of older converts
 */
public record VariantsManifest(int formatVersion, Model model, RecipeRef recipe, int seqLen, int samples,
                               @JsonInclude(JsonInclude.Include.NON_NULL) String reference, String tokenizer,
                               List<VariantEntry> variants,
                               @JsonInclude(JsonInclude.Include.NON_NULL) Golden golden) {

    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "variants.json";

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    public VariantsManifest {
        variants = List.copyOf(variants);
    }

    /** A manifest whose fidelity was measured against the converter's FP32 graph (no {@code reference}). */
    public VariantsManifest(int formatVersion, Model model, RecipeRef recipe, int seqLen, int samples, String tokenizer,
                            List<VariantEntry> variants, Golden golden) {
        this(formatVersion, model, recipe, seqLen, samples, null, tokenizer, variants, golden);
    }

    /**
     * @param source the {@code --source} as given (a directory or {@code hf:org/name@rev})
     * @param commit the Hub commit the source was pinned to, null for a local directory
     * @param modelType {@code bert}, {@code distilbert}, {@code gpt2}, ...
     * @param task the converted task head, null (left out) when the packages output the base model's hidden states
     */
    public record Model(String source, String commit, String modelType, int hiddenSize, int layers, int heads,
                        int maxPositions, @JsonInclude(JsonInclude.Include.NON_NULL) Task task) {

        public Model(String source, String commit, String modelType, int hiddenSize, int layers, int heads,
                     int maxPositions) {
            this(source, commit, modelType, hiddenSize, layers, heads, maxPositions, null);
        }
    }

    /**
     * What the packages' outputs mean when a task head is converted (also in each package's metadata:
     * {@code aneforge.task}, {@code aneforge.id2label}).
     *
     * @param kind         {@code sequence-classification}, {@code token-classification}, {@code question-answering},
     *                     {@code fill-mask} or {@code pre-training} (masked LM plus next-sentence prediction)
     * @param architecture the config's {@code architectures} entry ({@code BertForSequenceClassification})
     * @param outputs      the packages' outputs ({@code logits}, or {@code start_logits} and {@code end_logits}, or
     *                     {@code prediction_logits} and {@code seq_relationship_logits})
     * @param labels       label names in id order (config.json's {@code id2label}); empty for question answering,
     *                     fill-mask and pre-training
     * @param problemType  a sequence classifier's {@code problem_type} ({@code single_label_classification},
     *                     {@code multi_label_classification}, {@code regression}) when config.json states one; left
     *                     out otherwise (readers then follow the text-classification pipeline: a sigmoid for one
     *                     label, a softmax for several) and for the other kinds
     * @param activationFn a sentence-transformers CrossEncoder's activation class path (config.json's
     *                     {@code sentence_transformers.activation_fn} or {@code sbert_ce_default_activation_function})
     *                     when it names one; left out otherwise
     */
    public record Task(String kind, String architecture, List<String> outputs, List<String> labels,
                       @JsonInclude(JsonInclude.Include.NON_NULL) String problemType,
                       @JsonInclude(JsonInclude.Include.NON_NULL) String activationFn) {
        public Task {
            outputs = List.copyOf(outputs);
            labels = List.copyOf(labels);
        }

        /** A task without a problem type (every kind but sequence classification). */
        public Task(String kind, String architecture, List<String> outputs, List<String> labels) {
            this(kind, architecture, outputs, labels, null, null);
        }

        /** A task without a CrossEncoder activation. */
        public Task(String kind, String architecture, List<String> outputs, List<String> labels, String problemType) {
            this(kind, architecture, outputs, labels, problemType, null);
        }

        /** The task of a model's head, null without one. */
        public static Task of(io.aneforge.model.TaskHead head) {
            return head == null ? null : new Task(head.kind().id(), head.architecture(), head.outputs(), head.labels(),
                    head.problemType() == null ? null : head.problemType().id(), head.crossEncoderActivation());
        }
    }

    /**
     * The golden inputs and FP32 outputs on the fixed samples, as the converter worker stores them for a version
     * ({@code GoldenOutputsCodec} files, relative to {@code variants.json}).
     *
     * @param samples how many fixed samples they hold (all of them, as the worker's)
     */
    public record Golden(int samples, String inputs, String inputsSha256, String outputs, String outputsSha256) {
    }

    /** @param source {@code built-in recipe default} or the recipe file as given */
    public record RecipeRef(String name, String source, List<String> computeUnits) {
    }

    public String toJson() {
        return JSON.writeValueAsString(this) + "\n";
    }

    public void write(Path file) {
        try {
            Files.writeString(file, toJson(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CommandFailure("cannot write " + file + ": " + IoProblems.describe(e, file), e);
        }
    }

    public static VariantsManifest read(Path file) {
        try {
            return JSON.readValue(Files.readString(file, StandardCharsets.UTF_8), VariantsManifest.class);
        } catch (IOException e) {
            throw new CommandFailure("cannot read " + file + ": " + IoProblems.describe(e, file), e);
        } catch (JacksonException e) {
            // One line without Jackson's "at [Source: ...]" trailer: the line and column, then the problem.
            String problem = e.getOriginalMessage() == null ? e.getClass().getSimpleName()
                    : e.getOriginalMessage().lines().findFirst().orElse("").strip();
            int cut = problem.indexOf(" at [Source");
            problem = cut >= 0 ? problem.substring(0, cut) : problem;
            String at = e.getLocation() == null || e.getLocation().getLineNr() < 1 ? ""
                    : " line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr();
            throw new UsageException(file + at + " is not a valid " + FILE_NAME + ": " + problem
                    + " (rerun convert to regenerate it)");
        }
    }

    /** Any value as indented JSON, the way the commands print {@code --json} results. */
    public static String json(Object value) {
        return JSON.writeValueAsString(value);
    }
}

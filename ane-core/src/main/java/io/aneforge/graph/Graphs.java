package io.aneforge.graph;

import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Var;
import io.aneforge.model.BertConfig;
import io.aneforge.model.DistilBertConfig;
import io.aneforge.model.Gpt2Config;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.MpnetConfig;
import io.aneforge.variant.Layout;
import io.aneforge.variant.VariantSpec;
import java.util.Locale;

/** Entry point: picks the architecture's graph and the layout, builds, and returns the program with its reports. */
public final class Graphs {
    public static final String INPUT_IDS = "input_ids";
    public static final String ATTENTION_MASK = "attention_mask";
    /** The optional segment input ({@code convert --token-types}): 0 for the first text of a pair, 1 for the second. */
    public static final String TOKEN_TYPE_IDS = "token_type_ids";
    public static final String LAST_HIDDEN_STATE = "last_hidden_state";
    public static final String POOLER_OUTPUT = "pooler_output";
    public static final String LOGITS = "logits";
    public static final String START_LOGITS = io.aneforge.model.TaskHead.START_LOGITS;
    public static final String END_LOGITS = io.aneforge.model.TaskHead.END_LOGITS;
    /**
     * The metadata key of the package's {@link VariantSpec#buildId()} ({@code ios18-ane-int8-block32-s128}).
     * Packages written before builds were shared carry {@link #VARIANT_METADATA} instead.
     */
    public static final String BUILD_METADATA = "aneforge.build";
    /** The metadata key older converters wrote the variant id under ({@code a17_pro-ios18-ane-int8-block32-s128}). */
    public static final String VARIANT_METADATA = "aneforge.variant";

    private Graphs() {
    }

    public static BuiltGraph build(ImportedModel model, VariantSpec spec) {
        return build(model, spec, WeightCache.none());
    }

    /** Like {@link #build(ImportedModel, VariantSpec)}, sharing weight encodings with other variants through {@code cache}. */
    public static BuiltGraph build(ImportedModel model, VariantSpec spec, WeightCache cache) {
        MilBuilder b = new MilBuilder(spec.target());
        WeightStore weights = new WeightStore(b, spec.precision(), cache);
        int maxPositions = model.config().maxSequenceLength();
        if (spec.seqLen() > maxPositions) {
            throw new GraphException("sequence length " + spec.seqLen() + " exceeds the " + maxPositions
                    + " positions of this " + model.config().modelType() + " model (max_position_embeddings); "
                    + "build a variant with seq_len <= " + maxPositions);
        }
        Layers layers = spec.layout() == Layout.ANE
                ? new AneLayers(b, weights, spec.seqLen(), spec.attentionChunk())
                : new StandardLayers(b, weights, spec.seqLen());
        b.metadata("aneforge.converter", "io.aneforge.graph");
        // The build id, not the variant id: the chip changes nothing in the program, so leaving it out lets the
        // variants of one build for several chips share one package, byte for byte (VariantSpec.buildId).
        b.metadata(BUILD_METADATA, spec.buildId());
        b.metadata("aneforge.model_type", model.config().modelType());
        if (model.commit() != null) {
            b.metadata("aneforge.source_commit", model.commit());
        }
        if (model.head() != null) {
            // what the outputs mean: an app reads the label names here (Hugging Face's config.id2label)
            b.metadata("aneforge.task", model.head().kind().id());
            b.metadata("aneforge.architecture", model.head().architecture());
            if (!model.head().labels().isEmpty()) {
                b.metadata("aneforge.id2label", model.head().id2labelJson());
            }
            if (model.head().problemType() != null) {
                // only when config.json states it: without it, readers follow the pipeline (one label: sigmoid,
                // several: softmax), and recording a guess would tell apps something the checkpoint never said
                b.metadata(io.aneforge.model.TaskHead.PROBLEM_TYPE_METADATA, model.head().problemType().id());
            }
            if (model.head().crossEncoderActivation() != null) {
                // a sentence-transformers CrossEncoder: how its predict turns these logits into scores
                b.metadata(io.aneforge.model.TaskHead.ACTIVATION_FN_METADATA, model.head().crossEncoderActivation());
            }
        }
        if (spec.precision().calibrated()) {
            // the statistics GPTQ (or W8A8's activation scales) used, bit for bit: builds whose bytes differ show whether these did
            b.metadata("aneforge.calibration_sha256", cache.calibrationFingerprint(spec.id()));
        }
        Var ids = b.input(INPUT_IDS, DType.INT32, 1, spec.seqLen());
        Var mask = b.input(ATTENTION_MASK, DType.INT32, 1, spec.seqLen());
        Var types = model.tokenTypeInput() ? b.input(TOKEN_TYPE_IDS, DType.INT32, 1, spec.seqLen()) : null;
        Var[] outputs;
        if (model.config() instanceof BertConfig || model.config() instanceof DistilBertConfig
                || model.config() instanceof MpnetConfig) {
            outputs = EncoderGraph.build(model, b, weights, layers, ids, mask, types, spec.seqLen());
        } else if (model.config() instanceof Gpt2Config) {
            outputs = Gpt2Graph.build(model, b, weights, layers, ids, mask, spec.seqLen());
        } else {
            throw new GraphException("no graph builder for model type '" + model.config().modelType() + "'");
        }
        return new BuiltGraph(b.build(outputs), weights.reports(), weights.parameterCount());
    }

    /**
     * True for an output with a value per position of a {@code seqLen}-token input: {@code (1, S, ...)} of rank 3 or
     * more (hidden states, per-token logits), or a question-answering head's {@code (1, S)} start and end logits.
     * Known by name for rank 2: a sequence classifier's {@code logits (1, L)} or a pooler's {@code (1, C)} may have
     * {@code L = S} or {@code C = S}.
     */
    public static boolean perToken(String name, int[] shape, int seqLen) {
        if (shape.length < 2 || shape[0] != 1 || shape[1] != seqLen) {
            return false;
        }
        return shape.length >= 3 || name.equals(START_LOGITS) || name.equals(END_LOGITS);
    }

    /** Names a final value: cast back to FP32 like coremltools does for FP16 programs, or an identity reshape. */
    static Var output(MilBuilder b, Var v, String name) {
        if (v.dtype() == DType.FP16) {
            return b.op("cast").arg("x", v).arg("dtype", "fp32").name(name + "_cast").outputNames(name).build();
        }
        return b.op("reshape").arg("x", v).arg("shape", v.shape()).name(name).build();
    }

    /** The MIL op for a Hub activation name. */
    static Var activation(MilBuilder b, Var x, String hubName) {
        String a = hubName == null ? "gelu" : hubName.toLowerCase(Locale.ROOT);
        return switch (a) {
            case "gelu", "gelu_python" -> b.gelu(x, "EXACT");
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> b.gelu(x, "TANH_APPROXIMATION");
            case "relu" -> b.op("relu").arg("x", x).build();
            default -> throw new GraphException("activation '" + hubName + "' is not supported by the graph builders "
                    + "(supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu)");
        };
    }
}

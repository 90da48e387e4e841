package io.aneforge.model;

import io.aneforge.io.BoundedFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code config.json} to a typed {@link ArchitectureConfig}; anything unsupported fails with the supported list. */
public final class ArchitectureConfigs {
    /** Supported {@code architectures} entries, per {@code model_type}. */
    public static final Map<String, List<String>> SUPPORTED = Map.of(
            "bert", List.of("BertModel", "BertForMaskedLM", "BertForPreTraining", "BertForSequenceClassification",
                    "BertForTokenClassification", "BertForQuestionAnswering"),
            "roberta", List.of("RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification",
                    "RobertaForTokenClassification", "RobertaForQuestionAnswering"),
            // RoBERTa's modeling code under other names (BertConfig.ROBERTA_TYPES)
            "xlm-roberta", List.of("XLMRobertaModel", "XLMRobertaForMaskedLM", "XLMRobertaForSequenceClassification",
                    "XLMRobertaForTokenClassification", "XLMRobertaForQuestionAnswering"),
            "camembert", List.of("CamembertModel", "CamembertForMaskedLM", "CamembertForSequenceClassification",
                    "CamembertForTokenClassification", "CamembertForQuestionAnswering"),
            "mpnet", List.of("MPNetModel", "MPNetForMaskedLM", "MPNetForSequenceClassification",
                    "MPNetForTokenClassification", "MPNetForQuestionAnswering"),
            "distilbert", List.of("DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification",
                    "DistilBertForTokenClassification", "DistilBertForQuestionAnswering"),
            "gpt2", List.of("GPT2Model", "GPT2LMHeadModel"));
    static final long MAX_CONFIG_BYTES = 1 << 20;
    /** Hub activation names the graph builders implement ({@code Graphs.activation}), lower case. */
    public static final List<String> ACTIVATIONS = List.of("gelu", "gelu_python", "gelu_new", "gelu_pytorch_tanh",
            "gelu_fast", "relu");

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private ArchitectureConfigs() {
    }

    public static ArchitectureConfig parse(Path configJson) throws IOException {
        return parseWithHead(configJson).config();
    }

    /**
     * A config and the task head its {@code architectures} names.
     *
     * @param head the head the graph builders convert, null for a base model or a head they do not convert
     *             (masked LM, pre-training: dropped on import, and named)
     */
    public record Parsed(ArchitectureConfig config, TaskHead head) {
    }

    /**
     * Like {@link #parse}, with the task head ({@link TaskHead}) and its labels ({@code id2label}): the one head kind
     * {@code architectures} names ({@link HeadChoice#DEFAULT}); a config naming two kinds is refused.
     */
    public static Parsed parseWithHead(Path configJson) throws IOException {
        return parseWithHead(configJson, HeadChoice.DEFAULT);
    }

    /** Like {@link #parseWithHead(Path)}, with the head {@code choice} picks ({@code convert --head}). */
    public static Parsed parseWithHead(Path configJson, HeadChoice choice) throws IOException {
        if (!Files.isRegularFile(configJson)) {
            throw new ModelImportException(configJson, "config.json is missing");
        }
        if (Files.size(configJson) > MAX_CONFIG_BYTES) {
            throw new ModelImportException(configJson, "config.json is larger than " + MAX_CONFIG_BYTES + " bytes");
        }
        JsonNode root;
        try {
            root = JSON.readTree(BoundedFiles.readString(configJson, MAX_CONFIG_BYTES));
        } catch (JacksonException e) {
            throw new ModelImportException(configJson, "config.json is not valid JSON: " + e.getOriginalMessage());
        } catch (java.nio.charset.MalformedInputException e) {
            throw new ModelImportException(configJson, "config.json is not valid UTF-8");
        }
        if (root == null || !root.isObject()) {
            throw new ModelImportException(configJson, "config.json must be a JSON object");
        }
        String modelType = root.path("model_type").isString() ? root.get("model_type").stringValue() : null;
        List<String> architectures = new ArrayList<>();
        if (root.has("architectures")) {
            if (!root.get("architectures").isArray()) {
                throw new ModelImportException(configJson, "'architectures' must be an array of class names");
            }
            root.get("architectures").forEach(n -> architectures.add(n.asString()));
        }
        if (modelType == null || !SUPPORTED.containsKey(modelType)) {
            throw unsupported(configJson, modelType, architectures);
        }
        for (String arch : architectures) {
            if (!SUPPORTED.get(modelType).contains(arch)) {
                throw unsupported(configJson, modelType, architectures);
            }
        }
        Fields f = new Fields(configJson, root);
        try {
            refuseUnimplemented(f, modelType);
            ArchitectureConfig config = switch (modelType) {
                case "bert", "roberta", "xlm-roberta", "camembert" -> new BertConfig(modelType, f.integer("vocab_size"), f.integer("hidden_size"),
                        f.integer("num_hidden_layers"), f.integer("num_attention_heads"),
                        f.integer("intermediate_size"), f.integer("max_position_embeddings"),
                        f.integerOr("type_vocab_size", 2), f.number("layer_norm_eps", 1e-12),
                        f.activation("hidden_act", "gelu"),
                        BertConfig.ROBERTA_TYPES.contains(modelType) ? f.integerOr("pad_token_id", 1) + 1 : 0);
                // MPNetEmbeddings hard-codes padding_idx 1 (positions from 2) whatever pad_token_id says
                case "mpnet" -> new MpnetConfig(f.integer("vocab_size"), f.integer("hidden_size"),
                        f.integer("num_hidden_layers"), f.integer("num_attention_heads"),
                        f.integer("intermediate_size"), f.integer("max_position_embeddings"),
                        f.number("layer_norm_eps", 1e-12), f.activation("hidden_act", "gelu"),
                        f.integerOr("relative_attention_num_buckets", MpnetConfig.BUCKETS));
                case "distilbert" -> new DistilBertConfig(f.integer("vocab_size"), f.integer("dim"),
                        f.integer("n_layers"), f.integer("n_heads"), f.integer("hidden_dim"),
                        f.integer("max_position_embeddings"), f.activation("activation", "gelu"),
                        f.bool("sinusoidal_pos_embds", false));
                case "gpt2" -> {
                    int embd = f.integer("n_embd");
                    yield new Gpt2Config(f.integer("vocab_size"), embd, f.integer("n_layer"), f.integer("n_head"),
                            root.path("n_inner").isNull() || !root.has("n_inner") ? 4 * embd : f.integer("n_inner"),
                            f.integer("n_positions"), f.number("layer_norm_epsilon", 1e-5),
                            f.activation("activation_function", "gelu_new"), f.bool("scale_attn_weights", true),
                            f.bool("scale_attn_by_inverse_layer_idx", false));
                }
                default -> throw new IllegalStateException("unreachable model_type " + modelType);
            };
            return new Parsed(config, head(f, modelType, architectures, choice));
        } catch (UnclearHead e) {
            throw new HeadChoiceException(configJson, e.getMessage(), e.architectures);
        } catch (IllegalArgumentException e) {
            throw new ModelImportException(configJson, e.getMessage());
        }
    }

    /**
     * Refuses config values that change what the model computes and that the graph builders do not implement
     * (docs/converter.md lists every key: honoured, refused when not the default, or ignored because it does not
     * change inference). Without this a conversion would succeed, pass its own fidelity check (the golden outputs
     * come from the same graph) and compute another function than the checkpoint's.
     */
    private static void refuseUnimplemented(Fields f, String modelType) {
        // Any model type: quantized checkpoints (bitsandbytes, GPTQ, AWQ...) and pruned heads change the weights.
        f.requireAbsent("quantization_config", "quantized checkpoints are not supported: convert the unquantized"
                + " FP32/FP16/BF16 weights (the converter quantizes them itself)");
        f.requireEmptyObject("pruned_heads", "models with pruned attention heads are not supported");
        switch (modelType) {
            case "bert", "roberta", "xlm-roberta", "camembert" -> {
                f.requireFalse("is_decoder", "only bidirectional encoders are implemented (is_decoder false);"
                        + " a decoder BERT attends causally");
                f.requireFalse("add_cross_attention", "cross-attention layers need encoder inputs, which the"
                        + " converted graph does not have");
                f.requireString("position_embedding_type", "absolute", "only \"absolute\" (learned absolute position"
                        + " embeddings) is implemented; relative_key and relative_key_query add relative-position"
                        + " terms to the attention scores");
            }
            case "gpt2" -> {
                f.requireFalse("add_cross_attention", "cross-attention layers need encoder inputs, which the"
                        + " converted graph does not have");
                f.requireTrue("tie_word_embeddings", "the logits are computed with the token embedding table wte"
                        + " (lm_head tied to it); an untied lm_head is not implemented");
                // Upcasting to FP32 and scaling before the product is a numerical, not a functional, change: the
                // reference is FP32 and the graphs already scale q before q·k. Checked only for its type.
                f.bool("reorder_and_upcast_attn", false);
            }
            default -> {
                // distilbert: its config has no other key that changes inference (sinusoidal_pos_embds only
                // initializes the position table: DistilBertConfig says how the import follows transformers)
            }
        }
    }

    /**
     * The head {@code choice} picks among the kinds {@code architectures} names, with its labels: {@code id2label} (ids
     * 0..n-1, each once), else {@code num_labels} or transformers' default of 2 labels named {@code LABEL_i}. A
     * {@code num_labels} beside {@code id2label} must agree with it (transformers lets {@code id2label} win; a config
     * that says two things is refused). A config naming two kinds is refused without a choice: converting the first
     * silently would compute one of two functions the config claims. A pre-training head holds a masked-LM head:
     * {@code --head fill-mask} converts that part of a {@code *ForPreTraining} config alone (the next-sentence head
     * dropped and named). The other way round, {@code --head pre-training} on a {@code BertForMaskedLM} config opts in
     * to the next-sentence head its checkpoint may carry (bert-base-uncased's does: it was trained as
     * BertForPreTraining and saved with both heads): the class name is a hint, the weights decide, so
     * {@link ModelImporter} requires them and refuses naming the ones missing.
     */
    private static TaskHead head(Fields f, String modelType, List<String> architectures, HeadChoice choice) {
        java.util.Map<TaskHead.Kind, String> named = new java.util.LinkedHashMap<>();
        for (String a : architectures) {
            TaskHead.Kind k = TaskHead.Kind.of(a);
            if (k != null) {
                named.putIfAbsent(k, a);
            }
        }
        if (choice.none()) {
            return null;
        }
        TaskHead.Kind kind;
        String architecture;
        if (choice.kind() == TaskHead.Kind.MASKED_LM && !named.containsKey(TaskHead.Kind.MASKED_LM)
                && named.containsKey(TaskHead.Kind.PRE_TRAINING)) {
            kind = TaskHead.Kind.MASKED_LM;
            architecture = named.get(TaskHead.Kind.PRE_TRAINING);
        } else if (choice.kind() == TaskHead.Kind.PRE_TRAINING && !named.containsKey(TaskHead.Kind.PRE_TRAINING)
                && named.containsKey(TaskHead.Kind.MASKED_LM) && modelType.equals("bert")) {
            // not the default: a BertForMaskedLM converts to fill-mask unless asked, as transformers loads it
            kind = TaskHead.Kind.PRE_TRAINING;
            architecture = named.get(TaskHead.Kind.MASKED_LM);
        } else if (choice.kind() != null) {
            kind = choice.kind();
            architecture = named.get(kind);
            if (!named.containsKey(kind)) {
                java.util.Set<TaskHead.Kind> choosable = new java.util.LinkedHashSet<>(named.keySet());
                if (choosable.contains(TaskHead.Kind.PRE_TRAINING)) {
                    choosable.add(TaskHead.Kind.MASKED_LM); // its masked-LM half alone
                }
                // a base-model config: the importer does not search its checkpoint for head weights, so the message
                // says what config.json names, not what the weights hold
                throw new UnclearHead("--head " + kind.id() + ": config.json's architectures "
                        + architectures + (named.isEmpty()
                        ? " name no head, and the converter does not look for head weights under a base-model config:"
                        + " drop --head, or pass --head none (if the weights carry a head, name its class in"
                        + " config.json's architectures)"
                        : " name no " + kind.id() + " head; it has " + ids(named.keySet()) + ": pass "
                        + alternatives(choosable) + " or --head none") + (kind == TaskHead.Kind.PRE_TRAINING && !modelType.equals("bert")
                        ? " (transformers defines a pre-training head, masked LM plus next-sentence prediction, for"
                        + " BERT only)" : ""), architectures);
            }
        } else if (named.size() > 1) {
            throw new UnclearHead("config.json's architectures " + architectures + " name " + named.size()
                    + " different task heads (" + ids(named.keySet()) + "), and the converter will not guess which one"
                    + " the weights were trained for: pass " + alternatives(named.keySet()) + " (or --head none for"
                    + " the base model's hidden states)", architectures);
        } else if (named.isEmpty()) {
            return null;
        } else {
            kind = named.keySet().iterator().next();
            architecture = named.get(kind);
        }
        if (kind.predictsTokens()) {
            // transformers ties the decoder to the word embeddings unless tie_word_embeddings is false
            return new TaskHead(kind, architecture, List.of(), null, f.bool("tie_word_embeddings", true));
        }
        if (kind == TaskHead.Kind.QUESTION_ANSWERING) {
            return new TaskHead(kind, architecture, List.of());
        }
        List<String> labels = new ArrayList<>();
        JsonNode id2label = f.root().get("id2label");
        if (id2label != null && !id2label.isNull()) {
            if (!id2label.isObject() || id2label.isEmpty()) {
                throw new IllegalArgumentException("config field 'id2label' = " + abbreviated(id2label) + " must be an"
                        + " object of label names by id (\"0\": \"NEGATIVE\", ...)");
            }
            String[] byId = new String[id2label.size()];
            for (var e : id2label.properties()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    id = -1;
                }
                if (id < 0 || id >= byId.length || byId[id] != null || !e.getValue().isString()) {
                    throw new IllegalArgumentException("config field 'id2label' = " + abbreviated(id2label) + " must map"
                            + " each id 0.." + (byId.length - 1) + " once to a label name");
                }
                byId[id] = e.getValue().stringValue();
            }
            labels.addAll(List.of(byId));
        }
        if (f.root().has("num_labels") && !f.root().get("num_labels").isNull()) {
            int n = f.integer("num_labels");
            if (labels.isEmpty()) {
                ArchitectureConfig.checkDimension("num_labels", n, ArchitectureConfig.MAX_DIMENSION);
                for (int i = 0; i < n; i++) {
                    labels.add("LABEL_" + i);
                }
            } else if (n != labels.size()) {
                throw new IllegalArgumentException("config field 'num_labels' = " + n + " disagrees with the "
                        + labels.size() + " labels of 'id2label': remove num_labels or make them agree");
            }
        }
        if (labels.isEmpty()) {
            labels.addAll(List.of("LABEL_0", "LABEL_1")); // PretrainedConfig's default num_labels
        }
        // transformers reads problem_type only in its sequence classifiers
        boolean sequence = kind == TaskHead.Kind.SEQUENCE_CLASSIFICATION;
        return new TaskHead(kind, architecture, labels, sequence ? problemType(f) : null, true,
                sequence ? crossEncoderActivation(f) : null);
    }

    /**
     * A sentence-transformers CrossEncoder's activation, where CrossEncoder reads it: {@code sentence_transformers}'s
     * {@code activation_fn} (v4 and later), else the older {@code sbert_ce_default_activation_function}; null when
     * config.json names none (a plain transformers classifier) or names null. Any class path is recorded as written:
     * the converted logits do not depend on it, and predict reads a name it does not know raw, with a warning.
     * A value that is not a non-blank string is refused.
     */
    private static String crossEncoderActivation(Fields f) {
        JsonNode st = f.root().get("sentence_transformers");
        String field;
        JsonNode value;
        if (st != null && st.isObject() && st.has("activation_fn")) {
            field = "sentence_transformers.activation_fn";
            value = st.get("activation_fn");
        } else {
            field = "sbert_ce_default_activation_function";
            value = f.root().get(field);
        }
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isString() || value.stringValue().isBlank()) {
            throw new IllegalArgumentException("config field '" + field + "' = " + value + " is not a class path such as"
                    + " \"torch.nn.modules.activation.Sigmoid\": fix config.json or remove the field");
        }
        return value.stringValue();
    }

    /**
     * config.json's {@code problem_type}, or null when it states none: then nothing is recorded, and readers follow
     * transformers' text-classification pipeline (a sigmoid for one label, a softmax for several), not the regression
     * its loss would guess for one label. An unknown value is refused: reading the logits the wrong way gives wrong
     * labels.
     */
    private static TaskHead.ProblemType problemType(Fields f) {
        String value = f.string("problem_type", null);
        if (value == null) {
            return null;
        }
        TaskHead.ProblemType p = TaskHead.ProblemType.ofId(value);
        if (p == null) {
            throw new IllegalArgumentException("config field 'problem_type' = \"" + value + "\" is not supported"
                    + " (supported: " + java.util.Arrays.stream(TaskHead.ProblemType.values())
                    .map(TaskHead.ProblemType::id).collect(java.util.stream.Collectors.joining(", "))
                    + "; leave it out for transformers' default): fix config.json");
        }
        return p;
    }

    /** The head to import is not clear (a {@link HeadChoiceException}, whose fix is the choice, not the files). */
    private static final class UnclearHead extends IllegalArgumentException {
        private final List<String> architectures;

        UnclearHead(String message, List<String> architectures) {
            super(message);
            this.architectures = architectures;
        }
    }

    private static String ids(java.util.Collection<TaskHead.Kind> kinds) {
        return kinds.stream().map(TaskHead.Kind::id).collect(java.util.stream.Collectors.joining(", "));
    }

    private static String alternatives(java.util.Collection<TaskHead.Kind> kinds) {
        return kinds.stream().map(k -> "--head " + k.id()).collect(java.util.stream.Collectors.joining(" or "));
    }

    private static String abbreviated(JsonNode n) {
        String s = n.toString();
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    private static ModelImportException unsupported(Path file, String modelType, List<String> architectures) {
        return new ModelImportException(file, "unsupported model: model_type '" + modelType + "', architectures "
                + architectures + "; supported model types and architectures: " + new java.util.TreeMap<>(SUPPORTED));
    }

    /** Typed field access whose errors name the field. */
    private record Fields(Path file, JsonNode root) {
        int integer(String name) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                throw new IllegalArgumentException("config field '" + name + "' is missing");
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw new IllegalArgumentException("config field '" + name + "' = " + n + " is not a 32-bit integer");
            }
            return n.intValue();
        }

        int integerOr(String name, int fallback) {
            JsonNode n = root.get(name);
            return n == null || n.isNull() ? fallback : integer(name);
        }

        double number(String name, double fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isNumber()) {
                throw new IllegalArgumentException("config field '" + name + "' = " + n + " is not a number");
            }
            return n.doubleValue();
        }

        boolean bool(String name, boolean fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isBoolean()) {
                throw new IllegalArgumentException("config field '" + name + "' = " + n + " is not a boolean");
            }
            return n.booleanValue();
        }

        /** A Hub activation name the graph builders implement ({@link #ACTIVATIONS}). */
        String activation(String name, String fallback) {
            String value = string(name, fallback);
            if (!ACTIVATIONS.contains(value.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("config field '" + name + "' = \"" + value + "\" is not supported"
                        + " (supported: " + String.join(", ", ACTIVATIONS) + ")");
            }
            return value;
        }

        void requireFalse(String name, String why) {
            if (bool(name, false)) {
                throw new IllegalArgumentException("config field '" + name + "' = true is not supported: " + why);
            }
        }

        void requireTrue(String name, String why) {
            if (!bool(name, true)) {
                throw new IllegalArgumentException("config field '" + name + "' = false is not supported: " + why);
            }
        }

        void requireString(String name, String only, String why) {
            String value = string(name, only);
            if (!value.equals(only)) {
                throw new IllegalArgumentException("config field '" + name + "' = \"" + value + "\" is not supported: "
                        + why);
            }
        }

        void requireAbsent(String name, String why) {
            JsonNode n = root.get(name);
            if (n != null && !n.isNull()) {
                throw new IllegalArgumentException("config field '" + name + "' is present (" + abbreviated(n)
                        + "): " + why);
            }
        }

        /** Absent, null, or {} (what the Hub writes for no pruned heads). */
        void requireEmptyObject(String name, String why) {
            JsonNode n = root.get(name);
            if (n != null && !n.isNull() && !(n.isObject() && n.isEmpty())) {
                throw new IllegalArgumentException("config field '" + name + "' = " + abbreviated(n)
                        + " is not supported: " + why + " (supported: {})");
            }
        }

        String string(String name, String fallback) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isString()) {
                throw new IllegalArgumentException("config field '" + name + "' = " + n + " is not a string");
            }
            return n.stringValue();
        }
    }
}

package io.aneforge.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The task head of a fine-tuned encoder checkpoint that the graph builders convert, as Hugging Face's
 * {@code *ForSequenceClassification}, {@code *ForTokenClassification}, {@code *ForQuestionAnswering},
 * {@code *ForMaskedLM} and {@code BertForPreTraining} (masked LM plus next-sentence prediction) compute it. Which
 * head a checkpoint has comes from {@code architectures} in config.json (BERT's sequence and token classifiers have
 * the same {@code classifier} tensors; only the class name tells them apart), except where a {@code --head} choice
 * takes a part of it ({@code fill-mask} of a pre-training checkpoint) or more than it names ({@code pre-training} of a
 * {@code BertForMaskedLM} checkpoint that carries the next-sentence head: there the weights decide).
 *
 * @param kind         what the head computes
 * @param architecture the {@code architectures} entry that named it ({@code BertForSequenceClassification})
 * @param labels       the label names in id order ({@code id2label}, {@code LABEL_i} when config.json has none); empty
 *                     for question answering, whose two rows are the start and end logits, and for a masked-LM or
 *                     pre-training head, whose rows are the vocabulary (and the next-sentence head's "B follows A",
 *                     "B is random", as transformers' {@code next_sentence_label} 0 and 1 say)
 * @param problemType  how a sequence classifier's logits are read (config.json's {@code problem_type}); null for the
 *                     other kinds
 * @param tiedDecoder  a masked-LM (or pre-training) head's decoder is the word embedding table
 *                     ({@code tie_word_embeddings}, true by default), stored once; false: the checkpoint's own decoder
 *                     weight. True for the other kinds
 * @param crossEncoderActivation a sentence-transformers CrossEncoder's activation, as its config.json names it
 *                     ({@code sentence_transformers.activation_fn}, or the older
 *                     {@code sbert_ce_default_activation_function}: a class path such as
 *                     {@code torch.nn.modules.linear.Identity}), verbatim, unknown names included (readers decide);
 *                     null when config.json names none, and for the other kinds
 */
public record TaskHead(Kind kind, String architecture, List<String> labels, ProblemType problemType,
                       boolean tiedDecoder, String crossEncoderActivation) {
    /** Outputs of a question-answering head, as Hugging Face names them. */
    public static final String START_LOGITS = "start_logits";
    public static final String END_LOGITS = "end_logits";
    public static final String LOGITS = "logits";
    /** Outputs of a pre-training head, as transformers' {@code BertForPreTrainingOutput} names them. */
    public static final String PREDICTION_LOGITS = "prediction_logits";
    public static final String SEQ_RELATIONSHIP_LOGITS = "seq_relationship_logits";
    /** The next-sentence head of BERT's pre-training checkpoints: {@code Linear(hidden, 2)} over the pooler output. */
    public static final String SEQ_RELATIONSHIP = "cls.seq_relationship";

    public enum Kind {
        SEQUENCE_CLASSIFICATION("ForSequenceClassification", "sequence-classification"),
        TOKEN_CLASSIFICATION("ForTokenClassification", "token-classification"),
        QUESTION_ANSWERING("ForQuestionAnswering", "question-answering"),
        MASKED_LM("ForMaskedLM", "fill-mask"),
        /**
         * Masked LM plus next-sentence prediction ({@code BertForPreTraining}): a fill-mask head and a 2-way classifier
         * of the pooler output. No Hugging Face pipeline computes both; the id says what was trained, as the class
         * name does.
         */
        PRE_TRAINING("ForPreTraining", "pre-training");

        private final String suffix;
        private final String id;

        Kind(String suffix, String id) {
            this.suffix = suffix;
            this.id = id;
        }

        /** True for the kinds with a masked-LM head (logits over the vocabulary at each token): fill-mask, pre-training. */
        public boolean predictsTokens() {
            return this == MASKED_LM || this == PRE_TRAINING;
        }

        /** The pipeline-style name ({@code sequence-classification}) written into package metadata. */
        public String id() {
            return id;
        }

        /** The kind of a pipeline-style name ({@code fill-mask}), or null for none. */
        public static Kind ofId(String id) {
            for (Kind k : values()) {
                if (k.id.equals(id)) {
                    return k;
                }
            }
            return null;
        }

        /** The kind an {@code architectures} entry names, or null for a base model or an unconverted head. */
        static Kind of(String architecture) {
            for (Kind k : values()) {
                if (architecture.endsWith(k.suffix)) {
                    return k;
                }
            }
            return null;
        }
    }

    /**
     * How a sequence classifier's logits are read, as transformers' {@code problem_type} names it: a softmax over the
     * labels (one label per text), a sigmoid per label (any number of labels per text), or the raw values.
     */
    public enum ProblemType {
        SINGLE_LABEL("single_label_classification"),
        MULTI_LABEL("multi_label_classification"),
        REGRESSION("regression");

        private final String id;

        ProblemType(String id) {
            this.id = id;
        }

        /** The config.json value ({@code single_label_classification}), also written into package metadata. */
        public String id() {
            return id;
        }

        /** The type of a config.json value, or null for an unknown one. */
        public static ProblemType ofId(String id) {
            for (ProblemType p : values()) {
                if (p.id.equals(id)) {
                    return p;
                }
            }
            return null;
        }
    }

    /** Package metadata keys of a converted head (besides {@code aneforge.task}, {@code aneforge.id2label}). */
    public static final String PROBLEM_TYPE_METADATA = "aneforge.problemType";
    /** Package metadata key of {@link #crossEncoderActivation} (sentence-transformers' own name for it). */
    public static final String ACTIVATION_FN_METADATA = "aneforge.activationFn";

    public TaskHead {
        if (kind == null || architecture == null || labels == null) {
            throw new IllegalStateException("task head needs a kind, an architecture and labels");
        }
        labels = List.copyOf(labels);
        boolean unlabelled = kind == Kind.QUESTION_ANSWERING || kind.predictsTokens();
        if (unlabelled ? !labels.isEmpty() : labels.isEmpty()) {
            throw new IllegalStateException(kind + " head with labels " + labels);
        }
        if (kind != Kind.SEQUENCE_CLASSIFICATION && problemType != null) {
            throw new IllegalStateException(kind + " head with problem type " + problemType);
        }
        if (kind != Kind.SEQUENCE_CLASSIFICATION && crossEncoderActivation != null) {
            throw new IllegalStateException(kind + " head with a CrossEncoder activation " + crossEncoderActivation);
        }
        if (!kind.predictsTokens() && !tiedDecoder) {
            throw new IllegalStateException(kind + " head has no decoder to untie");
        }
    }

    /** A head of a config without {@code problem_type} or {@code tie_word_embeddings}: none stated, decoder tied. */
    public TaskHead(Kind kind, String architecture, List<String> labels) {
        this(kind, architecture, labels, null, true, null);
    }

    /** A head without a CrossEncoder activation. */
    public TaskHead(Kind kind, String architecture, List<String> labels, ProblemType problemType, boolean tiedDecoder) {
        this(kind, architecture, labels, problemType, tiedDecoder, null);
    }

    /**
     * Rows of the head's last projection: the labels, or start and end for question answering; a masked-LM or
     * pre-training head's are the vocabulary ({@link ArchitectureConfig#vocabSize}), not counted here (0).
     */
    public int numLabels() {
        return kind == Kind.QUESTION_ANSWERING ? 2 : labels.size();
    }

    /**
     * The names of a masked-LM head in one family's checkpoints (canonical: without the base model's prefix).
     *
     * @param transform    the hidden-to-hidden projection before the activation
     * @param norm         the LayerNorm after it
     * @param decoder      the vocabulary projection, whose weight is tied to the word embeddings by default
     * @param bias         the vocabulary bias
     * @param decoderBias  where some checkpoints store the same bias (transformers ties {@code decoder.bias} to it),
     *                     null when the decoder's own bias is {@link #bias}
     * @param fixedGelu    RoBERTa's head applies exact gelu whatever {@code hidden_act} says
     */
    public record MaskedLmNames(String transform, String norm, String decoder, String bias, String decoderBias,
                                boolean fixedGelu) {
    }

    /** The masked-LM head's module names for a model type ({@code bert}, {@code roberta}, {@code distilbert}). */
    public static MaskedLmNames maskedLmNames(String modelType) {
        return switch (modelType) {
            case "roberta" -> new MaskedLmNames("lm_head.dense", "lm_head.layer_norm", "lm_head.decoder",
                    "lm_head.bias", "lm_head.decoder.bias", true);
            case "distilbert" -> new MaskedLmNames("vocab_transform", "vocab_layer_norm", "vocab_projector",
                    "vocab_projector.bias", null, false);
            default -> new MaskedLmNames("cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm",
                    "cls.predictions.decoder", "cls.predictions.bias", "cls.predictions.decoder.bias", false);
        };
    }

    /**
     * True for a checkpoint tensor of this head (canonical name) that the import reads or, for a tied decoder's weight,
     * skips because transformers replaces it by the word embeddings: not a dropped head.
     */
    boolean covers(String modelType, String canonicalName) {
        if (!kind.predictsTokens()) {
            return modules(modelType).stream().anyMatch(m -> canonicalName.startsWith(m + "."));
        }
        MaskedLmNames n = maskedLmNames(modelType);
        return canonicalName.startsWith(n.transform() + ".") || canonicalName.startsWith(n.norm() + ".")
                || canonicalName.startsWith(n.decoder() + ".") || canonicalName.equals(n.bias())
                || kind == Kind.PRE_TRAINING && canonicalName.startsWith(SEQ_RELATIONSHIP + ".");
    }

    /** The module that computes the head's outputs ({@code classifier.out_proj} for RoBERTa's classifier). */
    String outputModule(String modelType) {
        if (kind.predictsTokens()) {
            return maskedLmNames(modelType).decoder();
        }
        if (kind == Kind.QUESTION_ANSWERING) {
            return "qa_outputs";
        }
        return kind == Kind.SEQUENCE_CLASSIFICATION && modelType.equals("roberta") ? "classifier.out_proj" : "classifier";
    }

    /**
     * The top-level checkpoint modules of the head ({@code pre_classifier}, {@code classifier}); BERT's sequence
     * classifier also reads the pooler, which belongs to the base model.
     */
    public List<String> modules(String modelType) {
        if (kind.predictsTokens()) { // BERT's pre-training head: cls.predictions and cls.seq_relationship
            return switch (modelType) {
                case "roberta" -> List.of("lm_head");
                case "distilbert" -> List.of("vocab_transform", "vocab_layer_norm", "vocab_projector");
                default -> List.of("cls");
            };
        }
        if (kind == Kind.QUESTION_ANSWERING) {
            return List.of("qa_outputs");
        }
        return kind == Kind.SEQUENCE_CLASSIFICATION && modelType.equals("distilbert")
                ? List.of("pre_classifier", "classifier") : List.of("classifier");
    }

    /** The head's weights in canonical name and shape; the output module's rows are {@link #numLabels()}. */
    List<ExpectedTensor> tensors(ArchitectureConfig config) {
        int h = config.hiddenSize();
        List<ExpectedTensor> t = new ArrayList<>();
        if (kind.predictsTokens()) {
            MaskedLmNames n = maskedLmNames(config.headFamily());
            int v = config.vocabSize();
            t.add(ExpectedTensor.required(n.transform() + ".weight", h, h));
            t.add(ExpectedTensor.required(n.transform() + ".bias", h));
            t.add(ExpectedTensor.required(n.norm() + ".weight", h));
            t.add(ExpectedTensor.required(n.norm() + ".bias", h));
            if (!tiedDecoder) {
                t.add(ExpectedTensor.required(n.decoder() + ".weight", v, h));
            }
            // one of the two (transformers ties them): ModelImporter requires it and keeps it under n.bias()
            t.add(ExpectedTensor.optional(n.bias(), v));
            if (n.decoderBias() != null) {
                t.add(ExpectedTensor.optional(n.decoderBias(), v));
            }
            if (kind == Kind.PRE_TRAINING) {
                // over the pooler output, which the base model's tensors hold (optional there: ModelImporter requires it)
                t.add(ExpectedTensor.required(SEQ_RELATIONSHIP + ".weight", 2, h));
                t.add(ExpectedTensor.required(SEQ_RELATIONSHIP + ".bias", 2));
            }
            return t;
        }
        if (kind == Kind.SEQUENCE_CLASSIFICATION) {
            String hidden = switch (config.headFamily()) {
                case "roberta" -> "classifier.dense";
                case "distilbert" -> "pre_classifier";
                default -> null; // BERT: the pooler (required then)
            };
            if (hidden != null) {
                t.add(ExpectedTensor.required(hidden + ".weight", h, h));
                t.add(ExpectedTensor.required(hidden + ".bias", h));
            }
        }
        String out = outputModule(config.headFamily());
        t.add(ExpectedTensor.required(out + ".weight", numLabels(), h));
        t.add(ExpectedTensor.required(out + ".bias", numLabels()));
        return t;
    }

    /** True for the tensors whose first axis counts the labels. */
    boolean countsLabels(String modelType, String canonicalName) {
        if (kind.predictsTokens()) {
            return false; // its rows are the vocabulary (and the next-sentence head's 2), checked like any shape
        }
        String out = outputModule(modelType);
        return canonicalName.equals(out + ".weight") || canonicalName.equals(out + ".bias");
    }

    /**
     * The head's outputs: {@code logits}, or {@code start_logits} and {@code end_logits}, or a pre-training head's
     * {@code prediction_logits} and {@code seq_relationship_logits}.
     */
    public List<String> outputs() {
        return switch (kind) {
            case QUESTION_ANSWERING -> List.of(START_LOGITS, END_LOGITS);
            case PRE_TRAINING -> List.of(PREDICTION_LOGITS, SEQ_RELATIONSHIP_LOGITS);
            default -> List.of(LOGITS);
        };
    }

    /**
     * True when the head is not the kind its {@link #architecture} names, but one a {@code --head} choice took from the
     * checkpoint: the masked-LM half of a {@code BertForPreTraining} ({@code --head fill-mask}), or the pre-training
     * head of a {@code BertForMaskedLM} checkpoint that carries the next-sentence head ({@code --head pre-training}).
     */
    public boolean chosenBeyondArchitecture() {
        return Kind.of(architecture) != kind;
    }

    /**
     * The tensors of BERT's next-sentence head besides the masked-LM head's (canonical names): the pooler it reads and
     * {@code cls.seq_relationship}.
     */
    public static final List<String> NEXT_SENTENCE_TENSORS = List.of("pooler.dense.weight", "pooler.dense.bias",
            SEQ_RELATIONSHIP + ".weight", SEQ_RELATIONSHIP + ".bias");

    /**
     * True when the head reads BERT's pooler ({@code tanh(pooler.dense(h_0))}): a BERT sequence classifier and the
     * next-sentence head. The pooler is optional in a base checkpoint, required then.
     */
    public boolean readsPooler(String modelType) {
        return kind == Kind.PRE_TRAINING || kind == Kind.SEQUENCE_CLASSIFICATION && modelType.equals("bert");
    }

    /** One line for progress output: {@code sequence classification head (2 labels): logits (1, 2)}. */
    public String describe(int seqLen) {
        String what = kind.id().replace('-', ' ') + " head";
        return switch (kind) {
            case SEQUENCE_CLASSIFICATION -> what + " (" + labels.size() + " labels"
                    + (problemType == null || problemType == ProblemType.SINGLE_LABEL ? "" : ", " + problemType.id())
                    + (crossEncoderActivation == null ? "" : ", CrossEncoder activation " + crossEncoderActivation)
                    + "): logits (1, "
                    + labels.size() + ")";
            case TOKEN_CLASSIFICATION -> what + " (" + labels.size() + " labels): logits (1, " + seqLen + ", "
                    + labels.size() + ")";
            case QUESTION_ANSWERING -> what + ": start_logits (1, " + seqLen + "), end_logits (1, " + seqLen + ")";
            case MASKED_LM -> "masked-LM head (fill-mask, decoder " + (tiedDecoder ? "tied to the word embeddings"
                    : "of its own") + "): logits (1, " + seqLen + ", vocabulary)";
            case PRE_TRAINING -> "pre-training head (masked LM plus next-sentence prediction, decoder "
                    + (tiedDecoder ? "tied to the word embeddings" : "of its own") + "): prediction_logits (1, " + seqLen
                    + ", vocabulary), seq_relationship_logits (1, 2)";
        };
    }

    /** {@code id2label} as JSON with the ids in order, for package metadata (deterministic bytes). */
    public String id2labelJson() {
        StringBuilder s = new StringBuilder("{");
        for (int i = 0; i < labels.size(); i++) {
            s.append(i == 0 ? "" : ", ").append('"').append(i).append("\": ").append(quote(labels.get(i)));
        }
        return s.append('}').toString();
    }

    private static String quote(String v) {
        StringBuilder s = new StringBuilder("\"");
        for (char c : v.toCharArray()) {
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        s.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.append('"').toString();
    }
}

package io.aneforge.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The task head of a fine-tuned encoder checkpoint that the graph builders convert, as Hugging Face's
 * {@code *ForSequenceClassification}, {@code *ForTokenClassification} and {@code *ForQuestionAnswering} compute it.
 * Which head a checkpoint has comes from {@code architectures} in config.json (BERT's sequence and token classifiers
 * have the same {@code classifier} tensors; only the class name tells them apart).
 *
 * @param kind         what the head computes
 * @param architecture the {@code architectures} entry that named it ({@code BertForSequenceClassification})
 * @param labels       the label names in id order ({@code id2label}, {@code LABEL_i} when config.json has none); empty
 *                     for question answering, whose two rows are the start and end logits
 */
public record TaskHead(Kind kind, String architecture, List<String> labels) {
    /** Outputs of a question-answering head, as Hugging Face names them. */
    public static final String START_LOGITS = "start_logits";
    public static final String END_LOGITS = "end_logits";
    public static final String LOGITS = "logits";

    public enum Kind {
        SEQUENCE_CLASSIFICATION("ForSequenceClassification", "sequence-classification"),
        TOKEN_CLASSIFICATION("ForTokenClassification", "token-classification"),
        QUESTION_ANSWERING("ForQuestionAnswering", "question-answering");

        private final String suffix;
        private final String id;

        Kind(String suffix, String id) {
            this.suffix = suffix;
            this.id = id;
        }

        /** The pipeline-style name ({@code sequence-classification}) written into package metadata. */
        public String id() {
            return id;
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

    public TaskHead {
        if (kind == null || architecture == null || labels == null) {
            throw new IllegalStateException("task head needs a kind, an architecture and labels");
        }
        labels = List.copyOf(labels);
        if (kind == Kind.QUESTION_ANSWERING ? !labels.isEmpty() : labels.isEmpty()) {
            throw new IllegalStateException(kind + " head with labels " + labels);
        }
    }

    /** Rows of the head's last projection: the labels, or start and end for question answering. */
    public int numLabels() {
        return kind == Kind.QUESTION_ANSWERING ? 2 : labels.size();
    }

    /** The module that computes the head's outputs ({@code classifier.out_proj} for RoBERTa's classifier). */
    String outputModule(String modelType) {
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
        if (kind == Kind.SEQUENCE_CLASSIFICATION) {
            String hidden = switch (config.modelType()) {
                case "roberta" -> "classifier.dense";
                case "distilbert" -> "pre_classifier";
                default -> null; // BERT: the pooler (required then)
            };
            if (hidden != null) {
                t.add(ExpectedTensor.required(hidden + ".weight", h, h));
                t.add(ExpectedTensor.required(hidden + ".bias", h));
            }
        }
        String out = outputModule(config.modelType());
        t.add(ExpectedTensor.required(out + ".weight", numLabels(), h));
        t.add(ExpectedTensor.required(out + ".bias", numLabels()));
        return t;
    }

    /** True for the tensors whose first axis counts the labels. */
    boolean countsLabels(String modelType, String canonicalName) {
        String out = outputModule(modelType);
        return canonicalName.equals(out + ".weight") || canonicalName.equals(out + ".bias");
    }

    /** The head's outputs: {@code logits}, or {@code start_logits} and {@code end_logits}. */
    public List<String> outputs() {
        return kind == Kind.QUESTION_ANSWERING ? List.of(START_LOGITS, END_LOGITS) : List.of(LOGITS);
    }

    /** One line for progress output: {@code sequence classification head (2 labels): logits (1, 2)}. */
    public String describe(int seqLen) {
        String what = kind.id().replace('-', ' ') + " head";
        return switch (kind) {
            case SEQUENCE_CLASSIFICATION -> what + " (" + labels.size() + " labels): logits (1, " + labels.size() + ")";
            case TOKEN_CLASSIFICATION -> what + " (" + labels.size() + " labels): logits (1, " + seqLen + ", "
                    + labels.size() + ")";
            case QUESTION_ANSWERING -> what + ": start_logits (1, " + seqLen + "), end_logits (1, " + seqLen + ")";
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

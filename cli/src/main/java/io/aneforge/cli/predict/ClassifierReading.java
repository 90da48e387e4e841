package io.aneforge.cli.predict;

import io.aneforge.model.TaskHead;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A sequence classifier's {@code logits (1, L)} read as Hugging Face's text-classification pipeline reads them
 * ({@link #function}), by the {@code problem_type} config.json stated (package metadata {@code aneforge.problemType},
 * absent when it stated none) and the label count. Label names come from {@code aneforge.id2label}, else
 * {@code LABEL_i}.
 */
public final class ClassifierReading {
    /**
     * aneforge's convention for listing the labels of a multi-label classifier that apply: those whose sigmoid is above
     * it. transformers has no such threshold (its pipeline returns the top labels with their sigmoids); 0.5 is the
     * usual cut of a sigmoid trained with binary cross-entropy.
     */
    public static final double MULTI_LABEL_THRESHOLD = 0.5;

    /** What turns the logits into scores, as the pipeline's {@code ClassificationFunction} names them. */
    public enum Function {
        SOFTMAX, SIGMOID, NONE
    }

    /**
     * The function transformers' text-classification pipeline applies by default, in its order: {@code regression}
     * gives the raw values; {@code multi_label_classification} or a single label a sigmoid (so a 1-label classifier
     * without {@code problem_type}, which its loss would train as regression, is read as a probability); otherwise
     * a softmax.
     *
     * @param stated config.json's {@code problem_type}, null when it states none
     */
    public static Function function(TaskHead.ProblemType stated, int labels) {
        if (stated == TaskHead.ProblemType.REGRESSION) {
            return Function.NONE;
        }
        if (stated == TaskHead.ProblemType.MULTI_LABEL || labels == 1) {
            return Function.SIGMOID;
        }
        return Function.SOFTMAX;
    }
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** A label and its probability (softmax or sigmoid). */
    public record Label(String label, double score) {
    }

    /** A regression output: the label and the raw logit. */
    public record Value(String label, double value) {
    }

    private ClassifierReading() {
    }

    /** True for a sequence classifier's {@code logits (1, L)}, the only output read here. */
    public static boolean readable(FloatTensor logits) {
        return logits != null && logits.shape().length == 2 && logits.shape()[0] == 1;
    }

    /**
     * As Hugging Face's text-classification pipeline gives it: the label with the largest logit and its softmax
     * probability.
     */
    public static Label softmax(String id2label, FloatTensor logits) {
        float[] v = logits.data();
        int best = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v.length; i++) {
            if (v[i] > max) {
                max = v[i];
                best = i;
            }
        }
        double sum = 0;
        for (float x : v) {
            sum += Math.exp(x - max);
        }
        return new Label(name(id2label, best), 1 / sum);
    }

    /** Every label's sigmoid in id order (multi-label: the labels above {@link #MULTI_LABEL_THRESHOLD} apply). */
    public static List<Label> sigmoid(String id2label, FloatTensor logits) {
        List<Label> out = new ArrayList<>();
        float[] v = logits.data();
        for (int i = 0; i < v.length; i++) {
            out.add(new Label(name(id2label, i), 1 / (1 + Math.exp(-v[i]))));
        }
        return out;
    }

    /**
     * What a sentence-transformers CrossEncoder's {@code predict} gives for these logits: every label's score in id
     * order after the activation its config.json named ({@code activationFn}, package metadata
     * {@code aneforge.activationFn}), the function applied, and a warning when it is not the named one.
     *
     * @param applied  {@code identity}, {@code sigmoid}, {@code tanh} or {@code softmax} (over the labels)
     * @param warning  null, or why the scores are not what the named activation gives
     */
    public record CrossEncoderScores(String activationFn, String applied, List<Value> scores, String warning) {
    }

    /**
     * As {@code CrossEncoder.predict} (sentence-transformers 4/5, {@code get_default_activation_fn}) scores the
     * logits: the named torch class when the path starts with {@code torch.} (Identity, Sigmoid, Tanh, Softmax, under
     * {@code torch.nn.} or their module path {@code torch.nn.modules.<module>.}); a path outside torch is what
     * CrossEncoder only imports with {@code trust_remote_code}, and otherwise replaces by its default (a sigmoid for
     * one label, identity for several), so this does the same, with CrossEncoder's warning. A torch class this
     * reader does not know gives the raw logits, with a warning naming it (CrossEncoder would apply it).
     */
    public static CrossEncoderScores crossEncoder(String activationFn, String id2label, FloatTensor logits) {
        float[] v = logits.data();
        String applied;
        String warning = null;
        if (!activationFn.startsWith("torch.")) {
            applied = v.length == 1 ? "sigmoid" : "identity";
            warning = "activation '" + activationFn + "' is not a torch class, which CrossEncoder loads only with "
                    + "trust_remote_code=True; scored with its default (" + applied + "), as CrossEncoder does without it";
        } else {
            String cls = activationFn.substring(activationFn.lastIndexOf('.') + 1);
            String module = activationFn.substring(0, activationFn.lastIndexOf('.'));
            boolean knownModule = module.equals("torch.nn") || module.equals("torch.nn.modules.linear")
                    || module.equals("torch.nn.modules.activation");
            applied = !knownModule ? null : switch (cls) {
                case "Identity" -> "identity";
                case "Sigmoid" -> "sigmoid";
                case "Tanh" -> "tanh";
                case "Softmax" -> "softmax";
                default -> null;
            };
            if (applied == null) {
                applied = "identity";
                warning = "activation '" + activationFn + "' is not one this predict applies (Identity, Sigmoid, Tanh, "
                        + "Softmax): the scores are the raw logits; apply it yourself";
            }
        }
        double[] scores = new double[v.length];
        double max = Double.NEGATIVE_INFINITY;
        for (float x : v) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : v) {
            sum += Math.exp(x - max);
        }
        for (int i = 0; i < v.length; i++) {
            scores[i] = switch (applied) {
                case "sigmoid" -> 1 / (1 + Math.exp(-v[i]));
                case "tanh" -> Math.tanh(v[i]);
                case "softmax" -> Math.exp(v[i] - max) / sum;
                default -> v[i];
            };
        }
        List<Value> out = new ArrayList<>();
        for (int i = 0; i < v.length; i++) {
            out.add(new Value(name(id2label, i), scores[i]));
        }
        return new CrossEncoderScores(activationFn, applied, out, warning);
    }

    /** Every output's raw value in id order (regression). */
    public static List<Value> raw(String id2label, FloatTensor logits) {
        List<Value> out = new ArrayList<>();
        float[] v = logits.data();
        for (int i = 0; i < v.length; i++) {
            out.add(new Value(name(id2label, i), v[i]));
        }
        return out;
    }

    /** Label {@code id}'s name in the package's {@code id2label} JSON, or {@code LABEL_<id>}. */
    static String name(String id2label, int id) {
        if (id2label != null) {
            try {
                JsonNode names = JSON.readTree(id2label);
                if (names.path(String.valueOf(id)).isString()) {
                    return names.get(String.valueOf(id)).stringValue();
                }
            } catch (JacksonException e) {
                // a package not written by convert: the label's index names it
            }
        }
        return "LABEL_" + id;
    }
}

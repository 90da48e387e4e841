package io.aneforge.cli.predict;

import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A sequence classifier's {@code logits (1, L)} read as its {@code problem_type} says (package metadata
 * {@code aneforge.problemType}): a softmax over the labels (single-label, and packages without the key, written before
 * it), a sigmoid per label (multi-label), or the raw values (regression). Label names come from
 * {@code aneforge.id2label}, else {@code LABEL_i}.
 */
public final class ClassifierReading {
    /** transformers' multi-label threshold: a label applies when its sigmoid is above it. */
    public static final double MULTI_LABEL_THRESHOLD = 0.5;
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

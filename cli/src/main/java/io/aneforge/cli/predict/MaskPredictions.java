package io.aneforge.cli.predict;

import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A fill-mask package's answer, as Hugging Face's fill-mask pipeline gives it: for each mask token of the input, the
 * {@code k} likeliest tokens with their softmax probability over the vocabulary.
 */
public final class MaskPredictions {
    /** The pipeline's default {@code top_k}. */
    public static final int TOP = 5;

    /** One candidate token: its text ({@code tokenizer.decode([id])}), id and probability. */
    public record Candidate(String token, int id, double score) {
    }

    /** The candidates for the mask at token {@code position} (0-based, counting the special tokens). */
    public record Mask(int position, List<Candidate> candidates) {
    }

    private MaskPredictions() {
    }

    /** The positions of {@code maskId} among the first {@code tokens} ids (the real ones). */
    public static int[] positions(int[] ids, int tokens, int maskId) {
        return IntStream.range(0, Math.min(tokens, ids.length)).filter(i -> ids[i] == maskId).toArray();
    }

    /** For each position, the top {@code k} of {@code logits (1, S, V)}'s row, likeliest first (ties: lower id). */
    public static List<Mask> top(FloatTensor logits, int[] positions, int k, TokenVocabulary vocab) {
        int v = logits.shape()[2];
        float[] data = logits.data();
        List<Mask> out = new ArrayList<>();
        for (int p : positions) {
            int row = p * v;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < v; i++) {
                max = Math.max(max, data[row + i]);
            }
            double sum = 0;
            for (int i = 0; i < v; i++) {
                sum += Math.exp(data[row + i] - max);
            }
            double norm = sum;
            double top = max;
            List<Candidate> best = IntStream.range(0, v).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> -data[row + i]).thenComparingInt(i -> i))
                    .limit(k)
                    .map(i -> new Candidate(vocab.decode(i), i, Math.exp(data[row + i] - top) / norm))
                    .toList();
            out.add(new Mask(p, best));
        }
        return out;
    }
}

package io.aneforge.cli.predict;

import io.aneforge.tensor.FloatTensor;

/**
 * A pre-training package's next-sentence answer for a text pair: the softmax of its {@code seq_relationship_logits
 * (1, 2)}, index 0 "the second text follows the first" ({@code isNext}), index 1 "the second text is a random one"
 * ({@code notNext}), as transformers' {@code next_sentence_label} and BERT's IsNext/NotNext name them.
 */
public record NextSentence(double isNext, double notNext) {

    /** The probabilities of {@code logits (1, 2)}. */
    public static NextSentence of(FloatTensor logits) {
        if (logits == null || logits.size() != 2) {
            throw new IllegalArgumentException("next-sentence logits must be (1, 2), got "
                    + (logits == null ? "none" : logits.shapeString()));
        }
        double a = logits.data()[0];
        double b = logits.data()[1];
        double max = Math.max(a, b);
        double ea = Math.exp(a - max);
        double eb = Math.exp(b - max);
        return new NextSentence(ea / (ea + eb), eb / (ea + eb));
    }
}

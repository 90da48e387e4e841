package io.aneforge.convert;

import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.model.ImportedModel;
import io.aneforge.tokenizer.Encoding;
import io.aneforge.tokenizer.MaskToken;
import io.aneforge.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The fixed samples as a masked LM reads them: a model whose head predicts masked tokens (fill-mask, BERT's
 * pre-training head; {@code TaskHead.Kind.predictsTokens}) is measured with its tokenizer's mask token
 * ({@link Tokenizer#maskToken}, the one {@code predict} shows predictions at) in place of some of each sample's tokens,
 * so that its golden data and fidelity compare the logits where the model does its task, not at ordinary tokens where
 * it mostly predicts the token itself. Every other model (encoders, classifiers, GPT-2) reads the samples as they are.
 *
 * <p>Which tokens, deterministically (the same samples, tokenizer, length and vocabulary give the same bytes on every
 * run, in {@code convert} and in the converter worker alike):
 * <ul>
 *   <li>where the golden data holds the logits at some positions only ({@link HeldPositions#positions}: a vocabulary
 *   of at least {@value HeldPositions#MIN_WIDTH} tokens), exactly those positions, computed from the samples'
 *   attention masks, which masking does not change: the agents then compare the masked tokens. A held position at a
 *   special token stays as it is, and the agents compare that token too: a sentence pair's middle {@code [SEP]} (at
 *   the default length 4 of BERT-base's 68 positions, 1 of an XLM-RoBERTa-sized vocabulary's 8), or the
 *   {@code [CLS]}/{@code [SEP]} of a sample holding more positions than it has other tokens (short lengths; never a
 *   fixed sentence at the default length: {@code MaskedSamplesTest});</li>
 *   <li>where the golden data keeps every real token (a smaller vocabulary, as tiny test models have), about
 *   {@value #WHOLE_SHARE_PERCENT} % of each sample's tokens (BERT's masking rate), at least one, spread evenly over
 *   them by the rule {@link HeldPositions} spreads positions with ({@link HeldPositions#evenly}).</li>
 * </ul>
 * Never a special token the tokenizer's template adds ({@code [CLS]}, {@code [SEP]}, {@code <s>}, {@code </s>}, also a
 * pair's middle separators) nor padding; a sentence pair's masks fall in either segment. The golden format setting
 * does not change which tokens are masked ({@code ANEFORGE_GOLDEN_FORMAT=2} keeps every real token, masked ones at the
 * positions format 3 holds), so the golden inputs are the same bytes in either format.
 *
 * <p>A masked LM whose tokenizer.json has no mask token is measured on the plain samples ({@link #lacksMaskToken}:
 * {@code convert} and the converter worker say so); nothing fails.
 */
public final class MaskedSamples {
    /** The share of a sample's tokens masked where every real token is kept: BERT's masking rate, in percent. */
    static final int WHOLE_SHARE_PERCENT = 15;

    private MaskedSamples() {
    }

    /**
     * The mask token {@code model}'s samples carry: its tokenizer's for a masked-LM head, empty for every other model
     * and for a masked LM whose tokenizer has none.
     */
    public static Optional<MaskToken> maskToken(ImportedModel model, Tokenizer tokenizer) {
        return predictsTokens(model) ? tokenizer.maskToken() : Optional.empty();
    }

    /**
     * Whether {@code model} is a masked LM measured on the plain samples because its tokenizer has no mask token:
     * {@code convert} and the converter worker each say so in their own words (what their user can do differs).
     */
    public static boolean lacksMaskToken(ImportedModel model, Tokenizer tokenizer) {
        return predictsTokens(model) && tokenizer.maskToken().isEmpty();
    }

    /** What {@code convert} says when {@link #lacksMaskToken}; empty otherwise. */
    public static Optional<String> plainSamplesNote(ImportedModel model, Tokenizer tokenizer) {
        if (!lacksMaskToken(model, tokenizer)) {
            return Optional.empty();
        }
        return Optional.of("note: tokenizer.json has no mask token (" + String.join(" or ", MaskToken.TEXTS) + "), so this "
                + model.head().kind().id() + " model's golden data and fidelity are measured on the plain fixed samples:"
                + " its logits are compared at ordinary tokens, where a masked LM mostly predicts the token itself, not"
                + " at masked ones; convert it with the tokenizer.json its model was trained with (a special added "
                + String.join(" or ", MaskToken.TEXTS) + ") to measure masked tokens");
    }

    private static boolean predictsTokens(ImportedModel model) {
        return model.head() != null && model.head().kind().predictsTokens();
    }

    /**
     * {@code samples} (every fixed sample, as {@link Golden#sampleInputs} encodes them for {@code model}) with
     * {@code mask} at {@link #positions}, the output's width being the model's vocabulary (its logits' row).
     */
    static List<Encoding> mask(ImportedModel model, Tokenizer tokenizer, MaskToken mask, List<Encoding> samples,
                               int seqLen) {
        int[][] positions = positions(samples, specialIds(tokenizer, model.tokenTypeInput(), seqLen),
                model.config().vocabSize(), HeldPositions.MIN_WIDTH, HeldPositions.MAX_FLOATS);
        return mask(samples, mask.id(), positions);
    }

    /** {@code samples} with {@code maskId} in place of the ids at {@code positions[i]} of sample {@code i}. */
    static List<Encoding> mask(List<Encoding> samples, int maskId, int[][] positions) {
        List<Encoding> out = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            Encoding e = samples.get(i);
            int[] ids = e.ids().clone();
            for (int p : positions[i]) {
                ids[p] = maskId;
            }
            out.add(new Encoding(ids, e.attentionMask(), e.length(), e.typeIds()));
        }
        return out;
    }

    /**
     * The positions to mask, per sample ascending: the held positions of an output {@code width} floats wide
     * ({@link HeldPositions#positions} with these bounds) that are not special tokens, or where it is kept whole
     * {@value #WHOLE_SHARE_PERCENT} % of each sample's other real tokens (rounded, at least one while it has one)
     * spread evenly over them.
     */
    static int[][] positions(List<Encoding> samples, Set<Integer> specialIds, long width, int minWidth, long maxFloats) {
        List<boolean[]> real = realTokens(samples);
        int[][] held = HeldPositions.positions(real, width, minWidth, maxFloats);
        int[][] out = new int[samples.size()][];
        for (int i = 0; i < samples.size(); i++) {
            int[] ids = samples.get(i).ids();
            boolean[] maskable = new boolean[ids.length];
            List<Integer> among = new ArrayList<>();
            for (int p = 0; p < ids.length; p++) {
                maskable[p] = real.get(i)[p] && !specialIds.contains(ids[p]);
                if (maskable[p]) {
                    among.add(p);
                }
            }
            if (held != null) {
                out[i] = Arrays.stream(held[i]).filter(p -> maskable[p]).toArray();
                continue;
            }
            int n = among.size();
            int k = n == 0 ? 0 : Math.max(1, (n * WHOLE_SHARE_PERCENT + 50) / 100);
            out[i] = new int[k];
            for (int j = 0; j < k; j++) {
                out[i][j] = among.get(HeldPositions.evenly(j, k, n));
            }
        }
        return out;
    }

    /** Per sample, which positions are real tokens (its attention mask): what {@link HeldPositions} spreads over. */
    static List<boolean[]> realTokens(List<Encoding> samples) {
        List<boolean[]> real = new ArrayList<>();
        for (Encoding e : samples) {
            boolean[] r = new boolean[e.attentionMask().length];
            for (int p = 0; p < r.length; p++) {
                r[p] = e.attentionMask()[p] != 0;
            }
            real.add(r);
        }
        return real;
    }

    /**
     * The ids the tokenizer's template adds around a text (or a pair, for a model with token types): what an empty
     * text is encoded to, {@code [CLS] [SEP]} for BERT, {@code <s> </s> </s> </s>} for a RoBERTa-style pair.
     */
    static Set<Integer> specialIds(Tokenizer tokenizer, boolean pairs, int seqLen) {
        Set<Integer> ids = new HashSet<>();
        for (int id : tokenizer.encode("", seqLen).tokens()) {
            ids.add(id);
        }
        if (pairs) {
            for (int id : tokenizer.encodePairLongestFirst("", "", seqLen).tokens()) {
                ids.add(id);
            }
        }
        return ids;
    }
}

package io.aneforge.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A tokenizer's mask token: the text written where a masked LM is to predict a word ({@code [MASK]}, RoBERTa's
 * {@code <mask>}) and its id. One rule picks it from a tokenizer.json, for {@code predict} (which shows the
 * predictions at each mask token) and for the golden samples of a masked LM ({@code MaskedSamples}), with both
 * tokenizer implementations ({@link Tokenizer#maskToken}).
 *
 * @param text the token as written in a text
 * @param id   its token id
 */
public record MaskToken(String text, int id) {
    /**
     * The mask tokens of the supported families: BERT and DistilBERT's, RoBERTa's (XLM-RoBERTa's, CamemBERT's and
     * MPNet's too). A special added token is preferred in this order, then any token: MPNet's vocabulary keeps BERT's
     * {@code [MASK]} as an ordinary entry while its tokenizer's mask token is the added {@code <mask>}.
     */
    public static final List<String> TEXTS = List.of("[MASK]", "<mask>");

    /**
     * The tokens of a tokenizer.json that can be its mask token, gathered in any order (a streaming read meets
     * {@code added_tokens} before {@code model} in the files Hugging Face writes): the vocabulary entries whose text is
     * one of {@link #TEXTS}, so that a read of a whole vocabulary holds a few, and the added tokens, which take their
     * ids over from the vocabulary's entries, as in a map of token names by id filled with the vocabulary first.
     */
    static final class Candidates {
        private final Map<Integer, String> vocab = new HashMap<>();
        private final Map<Integer, String> added = new HashMap<>();
        private final Map<Integer, String> specials = new HashMap<>();

        /** A vocabulary entry ({@code model.vocab}). */
        void token(String text, int id) {
            if (TEXTS.contains(text)) {
                vocab.put(id, text);
            } else {
                vocab.remove(id); // a later entry of the same id
            }
        }

        /** An added token ({@code added_tokens}), special ({@code "special": true}) or not. */
        void added(String text, int id, boolean special) {
            added.put(id, text);
            if (special) {
                specials.put(id, text);
            }
        }

        /**
         * The mask token: the first of {@link #TEXTS} among the special added tokens (its smallest id), else among all
         * tokens: the tokenizer's own mask token is a special added token; a vocabulary entry of the same text (MPNet's
         * {@code [MASK]}, left from BERT's vocabulary) is an ordinary token the model was not trained to fill.
         */
        Optional<MaskToken> choose() {
            Optional<MaskToken> special = first(specials);
            if (special.isPresent()) {
                return special;
            }
            Map<Integer, String> names = new HashMap<>(vocab);
            names.putAll(added);
            return first(names);
        }

        private static Optional<MaskToken> first(Map<Integer, String> byId) {
            for (String candidate : TEXTS) {
                int id = -1;
                for (Map.Entry<Integer, String> e : byId.entrySet()) {
                    if (e.getValue().equals(candidate) && (id < 0 || e.getKey() < id)) {
                        id = e.getKey();
                    }
                }
                if (id >= 0) {
                    return Optional.of(new MaskToken(candidate, id));
                }
            }
            return Optional.empty();
        }
    }

    /**
     * The mask token of a parsed tokenizer.json ({@code model.vocab}, an object of ids or a Unigram array of
     * {@code [piece, score]} pairs whose ids are their indices, then {@code added_tokens}), or empty when it has none
     * (GPT-2's).
     */
    public static Optional<MaskToken> of(JsonNode root) {
        Candidates c = new Candidates();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                c.token(e.getKey(), e.getValue().asInt());
            }
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                c.token(vocab.get(i).path(0).asString(), i);
            }
        }
        for (JsonNode t : root.path("added_tokens")) {
            c.added(t.path("content").asString(), t.path("id").asInt(), t.path("special").asBoolean(false));
        }
        return c.choose();
    }
}

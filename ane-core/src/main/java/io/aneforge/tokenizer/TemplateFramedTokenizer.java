package io.aneforge.tokenizer;

import java.util.List;

/**
 * What the pure-Java tokenizers share: each turns a text into its content tokens its own way ({@link #content}), and
 * tokenizer.json's post-processor template frames them, for one text or a pair, truncated by the file's strategy and
 * padded ({@link TokenizerJson#frame}, {@link TokenizerJson#encodePair}). One place for that flow, so that WordPiece,
 * byte-level BPE and Unigram cannot drift apart on it.
 */
abstract class TemplateFramedTokenizer implements Tokenizer {
    final TokenizerJson json;

    TemplateFramedTokenizer(TokenizerJson json) {
        this.json = json;
    }

    /** A text's tokens, without special tokens. */
    abstract List<Integer> content(String text);

    /**
     * Refuses a {@code maxLength} too short for this tokenizer: below two by default, room for a template's two
     * special tokens ({@code [CLS]}/{@code [SEP]}, {@code <s>}/{@code </s>}); a tokenizer whose template adds none
     * overrides it.
     */
    void checkMaxLength(int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2: " + maxLength);
        }
    }

    @Override
    public final Encoding encode(String text, int maxLength) {
        checkMaxLength(maxLength);
        return Encoding.padded(json.frame(content(text), maxLength), maxLength, json.padId());
    }

    /** The pair template of tokenizer.json over both texts' tokens, truncated by its strategy (longest first). */
    @Override
    public final Encoding encodePair(String first, String second, int maxLength) {
        checkMaxLength(maxLength);
        return json.encodePair(content(first), content(second), maxLength);
    }

    @Override
    public final Encoding encodePairLongestFirst(String first, String second, int maxLength) {
        checkMaxLength(maxLength);
        return json.encodePair(content(first), content(second), maxLength, PairTruncation.LONGEST_FIRST);
    }

    @Override
    public final java.util.Optional<MaskToken> maskToken() {
        return json.maskToken();
    }

    @Override
    public void close() {
        // Nothing to release, unless a tokenizer holds a cache.
    }
}

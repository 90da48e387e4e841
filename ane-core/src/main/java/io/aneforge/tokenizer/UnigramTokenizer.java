package io.aneforge.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Pure-Java SentencePiece tokenization (XLM-RoBERTa, CamemBERT: multilingual-e5, bge-m3), step by step as Hugging
 * Face's tokenizers run a {@code Unigram} tokenizer.json: the text is split on the added tokens ({@link AddedTokens});
 * each text between them is normalized ({@link TextNormalizer}: XLM-RoBERTa's {@code Precompiled} charsmap, then runs
 * of spaces to one), cut into words ({@link MetaspacePreTokenizer}: spaces become {@code ▁}, one is prepended, each
 * {@code ▁} starts a word), and each word is segmented by the {@link UnigramModel}; then the post-processor's special
 * tokens frame one text or a pair ({@link PostProcessor}), truncated and padded as for the other Java tokenizers.
 */
final class UnigramTokenizer extends TemplateFramedTokenizer {
    private final int maxTokenId;
    private final TextNormalizer normalizer;
    private final MetaspacePreTokenizer preTokenizer;
    private final UnigramModel model;
    private final AddedTokens added;

    UnigramTokenizer(TokenizerJson json) throws TokenizerException {
        super(json);
        JdkUnicode.warnOnce(JdkUnicode.Kind.UNIGRAM);
        this.normalizer = TextNormalizer.parse(json.file(), json.root().path("normalizer"));
        this.preTokenizer = MetaspacePreTokenizer.parse(json.file(), json.root().path("pre_tokenizer"));
        this.model = UnigramModel.parse(json.file(), json.root().path("model"));
        this.added = new AddedTokens(json.file(), json.root().path("added_tokens"),
                normalizer != TextNormalizer.NONE);
        // every piece's index, even a repeated piece's first one that the vocabulary map does not keep
        this.maxTokenId = Math.max(json.maxId(), model.size() - 1);
    }

    @Override
    List<Integer> content(String text) {
        List<Integer> ids = new ArrayList<>();
        // Metaspace's prepend_scheme "first" prepends only to the text at offset 0: the first piece, when it is text
        boolean[] atStart = {true};
        added.split(text, segment -> {
            for (String word : preTokenizer.words(normalizer.normalize(segment), atStart[0])) {
                model.encode(word, ids);
            }
            atStart[0] = false;
        }, id -> {
            ids.add(id);
            atStart[0] = false;
        });
        return ids;
    }

    @Override
    public int maxTokenId() {
        return maxTokenId;
    }

    @Override
    public String implementation() {
        return "java Unigram";
    }
}

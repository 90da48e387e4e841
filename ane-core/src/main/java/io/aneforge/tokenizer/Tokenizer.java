package io.aneforge.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Text to token ids, as defined by a Hugging Face {@code tokenizer.json}.
 *
 * <p>Two implementations give the same ids, type ids and masks, for one text and for pairs (tests compare them
 * on accents, CJK, emoji, very long words and truncated pairs): the reference, Hugging Face's Rust tokenizers
 * through DJL ({@link NativeTokenizer}), and a pure-Java one for WordPiece (BERT family), byte-level BPE (GPT-2) and
 * SentencePiece Unigram (XLM-RoBERTa, CamemBERT) that works where the native library cannot load. {@link #load}
 * picks by the system property {@code aneforge.tokenizer} = {@code auto} (default: native if it loads, else Java),
 * {@code native} or {@code java}.
 */
public interface Tokenizer extends AutoCloseable {
    String IMPLEMENTATION_PROPERTY = "aneforge.tokenizer";

    /**
     * Encodes one sequence with the tokenizer's special tokens ({@code [CLS] ... [SEP]} for BERT),
     * truncated to {@code maxLength} (keeping the trailing special token) and padded to it.
     */
    Encoding encode(String text, int maxLength);

    /**
     * Encodes a text pair (a cross-encoder's query and passage) with the pair template of tokenizer.json's
     * {@code post_processor} ({@code [CLS] first [SEP] second [SEP]} for BERT), each token's segment in
     * {@link Encoding#typeIds} (1 for BERT's second text and its {@code [SEP]}), truncated to {@code maxLength} by the
     * file's {@code truncation.strategy} (longest first when it has none), as Hugging Face's tokenizers do, and padded
     * to it.
     *
     * @throws IllegalArgumentException when the pair cannot be encoded in {@code maxLength}: fewer tokens than the pair
     *     template's special tokens, a strategy that may cut only one text too short for it, or a template with no
     *     pair form; the message says which
     */
    Encoding encodePair(String first, String second, int maxLength);

    /**
     * Like {@link #encodePair}, cut longest first whatever tokenizer.json's {@code truncation.strategy} (its direction
     * still holds): the strategy that fits every pair in a length that holds the pair template's special tokens. For
     * aneforge's own fixed sample pairs, which a file's {@code OnlyFirst}/{@code OnlySecond} may refuse at short
     * lengths ({@code Golden.sampleInputs}).
     *
     * @throws IllegalArgumentException when {@code maxLength} cannot hold the pair template's special tokens, or the
     *     template has no pair form
     */
    Encoding encodePairLongestFirst(String first, String second, int maxLength);

    /**
     * The largest token id this tokenizer can produce (of its vocabulary, added tokens and padding): a model
     * whose embedding table has {@code vocab_size} rows can take its ids only when this is below it.
     */
    int maxTokenId();

    /**
     * The tokenizer's mask token ({@link MaskToken}: a special added {@code [MASK]} or {@code <mask>} first), or empty
     * when tokenizer.json has none (GPT-2's). Both implementations read it from the file with the same rule.
     */
    java.util.Optional<MaskToken> maskToken();

    /** Human-readable implementation name, for logs and reports. */
    String implementation();

    @Override
    void close();

    static Tokenizer load(Path tokenizerJson) throws IOException {
        String mode = System.getProperty(IMPLEMENTATION_PROPERTY, "auto").toLowerCase(Locale.ROOT);
        switch (mode) {
            case "java":
                return loadPureJava(tokenizerJson);
            case "native":
                return NativeTokenizer.load(tokenizerJson);
            case "auto":
                if (NativeTokenizer.isAvailable()) {
                    return NativeTokenizer.load(tokenizerJson);
                }
                return loadPureJava(tokenizerJson);
            default:
                throw new IllegalArgumentException(IMPLEMENTATION_PROPERTY + " must be auto, native or java: " + mode);
        }
    }

    /**
     * The pure-Java implementation; fails for tokenizer models other than WordPiece, byte-level BPE and SentencePiece
     * {@code Unigram} (XLM-RoBERTa's), naming the native tokenizer as the fix.
     */
    static Tokenizer loadPureJava(Path tokenizerJson) throws IOException {
        TokenizerJson json = TokenizerJson.read(tokenizerJson);
        return switch (json.modelType()) {
            case "WordPiece" -> new WordPieceTokenizer(json);
            case "BPE" -> new ByteLevelBpeTokenizer(json);
            case "Unigram" -> new UnigramTokenizer(json);
            default -> throw TokenizerJson.unsupportedModel(tokenizerJson, json.modelType());
        };
    }
}

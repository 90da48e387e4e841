package io.aneforge.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Text to token ids, as defined by a Hugging Face {@code tokenizer.json}.
 *
 * <p>Two implementations give the same ids (tests compare them on accents, CJK, emoji and very
 * long words): the reference, Hugging Face's Rust tokenizers through DJL ({@link NativeTokenizer}),
 * and a pure-Java one for WordPiece (BERT family) and byte-level BPE (GPT-2) that works where the
 * native library cannot load. {@link #load} picks by the system property {@code aneforge.tokenizer}
 * = {@code auto} (default: native if it loads, else Java), {@code native} or {@code java}.
 */
public interface Tokenizer extends AutoCloseable {
    String IMPLEMENTATION_PROPERTY = "aneforge.tokenizer";

    /**
     * Encodes one sequence with the tokenizer's special tokens ({@code [CLS] ... [SEP]} for BERT),
     * truncated to {@code maxLength} (keeping the trailing special token) and padded to it.
     */
    Encoding encode(String text, int maxLength);

    /**
     * Encodes a text pair (a cross-encoder's query and passage) with the tokenizer's pair template
     * ({@code [CLS] first [SEP] second [SEP]} for BERT), the second text's tokens in segment 1 ({@link Encoding#typeIds}),
     * truncated to {@code maxLength} longest first, as Hugging Face's tokenizers do, and padded to it.
     *
     * @throws UnsupportedOperationException when this implementation cannot encode pairs (the pure-Java ones: only
     *     the native tokenizer, Hugging Face's own, does); the message says so
     */
    default Encoding encodePair(String first, String second, int maxLength) {
        throw new UnsupportedOperationException("text pairs need the native tokenizer (Hugging Face tokenizers through"
                + " DJL); the " + implementation() + " tokenizer encodes one text: run where the native library loads,"
                + " without -D" + IMPLEMENTATION_PROPERTY + "=java");
    }

    /**
     * The largest token id this tokenizer can produce (of its vocabulary, added tokens and padding): a model
     * whose embedding table has {@code vocab_size} rows can take its ids only when this is below it.
     */
    int maxTokenId();

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

    /** The pure-Java implementation; fails for tokenizer models other than WordPiece and byte-level BPE. */
    static Tokenizer loadPureJava(Path tokenizerJson) throws IOException {
        TokenizerJson json = TokenizerJson.read(tokenizerJson);
        return switch (json.modelType()) {
            case "WordPiece" -> new WordPieceTokenizer(json);
            case "BPE" -> new ByteLevelBpeTokenizer(json);
            default -> throw new TokenizerException(tokenizerJson, "tokenizer model '" + json.modelType()
                    + "' is not supported by the Java tokenizer (supported: WordPiece, BPE with ByteLevel)");
        };
    }
}

package io.aneforge.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;

/**
 * The {@code added_tokens} of a tokenizer.json ({@code [CLS]}, {@code [MASK]}, {@code <|endoftext|>}):
 * like the reference, text is first split on them (longest match first, honouring lstrip/rstrip),
 * they become their own ids, and only the text between them is normalized and tokenized.
 *
 * <p>They are matched in the raw text. Hugging Face matches a {@code normalized: true} token in the normalized text
 * instead, and a {@code single_word} one only where no word character touches it; a file that needs either is refused
 * (for {@code normalized}, only when the tokenizer's normalizer can change the text), naming the native tokenizer.
 */
final class AddedTokens {
    private record Token(String content, int id, boolean lstrip, boolean rstrip) {
    }

    private final List<Token> tokens = new ArrayList<>();

    /**
     * The added tokens of {@code file}; {@code normalizerChangesText}: whether its normalizer can change a text, so that
     * a {@code normalized: true} token matched in the raw text could differ from Hugging Face's.
     */
    AddedTokens(Path file, JsonNode addedTokens, boolean normalizerChangesText) throws TokenizerException {
        for (JsonNode t : addedTokens) {
            String content = t.path("content").asString("");
            if (content.isEmpty()) {
                continue;
            }
            if (t.path("single_word").asBoolean(false)) {
                throw new TokenizerException(file, "added token '" + content + "' is single_word, which the Java"
                        + " tokenizer does not implement; use the native tokenizer (-D"
                        + Tokenizer.IMPLEMENTATION_PROPERTY + "=native)");
            }
            if (normalizerChangesText && t.path("normalized").asBoolean(false)) {
                throw new TokenizerException(file, "added token '" + content + "' is normalized (matched in the"
                        + " normalized text), which the Java tokenizer does not implement with a normalizer; use the"
                        + " native tokenizer (-D" + Tokenizer.IMPLEMENTATION_PROPERTY + "=native)");
            }
            tokens.add(new Token(content, t.path("id").asInt(), t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false)));
        }
        tokens.sort(Comparator.comparingInt((Token t) -> t.content().length()).reversed());
    }

    /** Calls {@code text} for each run of ordinary text and {@code id} for each added token, in order. */
    void split(String s, Consumer<String> text, IntConsumer id) {
        int segmentStart = 0;
        int i = 0;
        while (i < s.length()) {
            Token match = null;
            for (Token t : tokens) {
                if (s.startsWith(t.content(), i)) {
                    match = t;
                    break;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            int start = i;
            int end = i + match.content().length();
            // Rust's char::is_whitespace (Unicode White_Space: NBSP and U+202F are, U+001C-U+001F are not)
            if (match.lstrip()) {
                while (start > segmentStart && WordPieceTokenizer.isWhitespace(s.codePointBefore(start))) {
                    start -= Character.charCount(s.codePointBefore(start));
                }
            }
            if (match.rstrip()) {
                while (end < s.length() && WordPieceTokenizer.isWhitespace(s.codePointAt(end))) {
                    end += Character.charCount(s.codePointAt(end));
                }
            }
            if (start > segmentStart) {
                text.accept(s.substring(segmentStart, start));
            }
            id.accept(match.id());
            segmentStart = end;
            i = end;
        }
        if (segmentStart < s.length()) {
            text.accept(s.substring(segmentStart));
        }
    }
}

package io.aneforge.tokenizer;

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
 */
final class AddedTokens {
    private record Token(String content, int id, boolean lstrip, boolean rstrip) {
    }

    private final List<Token> tokens = new ArrayList<>();

    AddedTokens(JsonNode addedTokens) {
        for (JsonNode t : addedTokens) {
            String content = t.path("content").asString("");
            if (!content.isEmpty()) {
                tokens.add(new Token(content, t.path("id").asInt(), t.path("lstrip").asBoolean(false),
                        t.path("rstrip").asBoolean(false)));
            }
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
            if (match.lstrip()) {
                while (start > segmentStart && Character.isWhitespace(s.charAt(start - 1))) {
                    start--;
                }
            }
            if (match.rstrip()) {
                while (end < s.length() && Character.isWhitespace(s.charAt(end))) {
                    end++;
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

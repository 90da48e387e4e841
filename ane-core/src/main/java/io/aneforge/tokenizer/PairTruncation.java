package io.aneforge.tokenizer;

import java.nio.file.Path;
import java.util.Locale;
import tools.jackson.databind.JsonNode;

/**
 * How a pair too long for the requested length is cut: tokenizer.json's {@code truncation.strategy}
 * ({@code LongestFirst} when the file has no truncation), with the lengths Hugging Face's tokenizers give.
 * A single text is cut by its length alone, whatever the strategy (the reference does the same); which end of a text
 * loses tokens is {@code truncation.direction} ({@link TokenizerJson#cutsLeft}).
 */
enum PairTruncation {
    /** The longer text loses tokens first; when both are longer than half the room, each keeps half. */
    LONGEST_FIRST,
    /** Only the first text loses tokens; a pair whose first text is too short for that is refused. */
    ONLY_FIRST,
    /** Only the second text loses tokens. */
    ONLY_SECOND;

    static PairTruncation parse(Path file, JsonNode truncation) throws TokenizerException {
        if (truncation.isMissingNode() || truncation.isNull()) {
            return LONGEST_FIRST;
        }
        JsonNode strategy = truncation.path("strategy");
        if (strategy.isMissingNode() || strategy.isNull()) {
            return LONGEST_FIRST;
        }
        return switch (strategy.asString("")) {
            case "LongestFirst" -> LONGEST_FIRST;
            case "OnlyFirst" -> ONLY_FIRST;
            case "OnlySecond" -> ONLY_SECOND;
            default -> throw new TokenizerException(file, "truncation.strategy " + strategy + " is not one Hugging"
                    + " Face's tokenizers know: use LongestFirst, OnlyFirst or OnlySecond");
        };
    }

    /** The strategy's name as Hugging Face's Python API and DJL spell it ({@code longest_first}). */
    String optionValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * How many tokens of each text a pair keeps so that both fit in {@code room} (the requested length less the
     * pair template's special tokens): the lengths as given when they fit.
     *
     * @throws IllegalArgumentException when only one text may lose tokens and it has too few
     */
    int[] keep(int first, int second, int room) {
        if (first + second <= room) {
            return new int[] {first, second};
        }
        if (room == 0) {
            // Hugging Face's truncate_encodings empties both texts first, whatever the strategy: the specials alone
            return new int[] {0, 0};
        }
        int remove = first + second - room;
        return switch (this) {
            case LONGEST_FIRST -> longestFirst(first, second, room);
            case ONLY_FIRST -> {
                if (first <= remove) {
                    throw tooShort("first", first, remove, room);
                }
                yield new int[] {first - remove, second};
            }
            case ONLY_SECOND -> {
                if (second <= remove) {
                    throw tooShort("second", second, remove, room);
                }
                yield new int[] {first, second - remove};
            }
        };
    }

    /**
     * Hugging Face's longest-first lengths: the shorter text keeps all its tokens when the longer one can take the
     * rest of the room (and at least as many); otherwise the shorter keeps half the room and the longer the rest.
     */
    private static int[] longestFirst(int first, int second, int room) {
        int n1 = Math.min(first, second);
        int n2;
        if (n1 > room) {
            n2 = n1;
        } else {
            n2 = Math.max(n1, room - n1);
        }
        if (n1 + n2 > room) {
            n1 = room / 2;
            n2 = n1 + room % 2;
        }
        return first > second ? new int[] {n2, n1} : new int[] {n1, n2};
    }

    private IllegalArgumentException tooShort(String which, int length, int remove, int room) {
        return new IllegalArgumentException("the pair does not fit in " + room + " tokens besides its special tokens:"
                + " tokenizer.json's truncation strategy " + optionValue() + " may cut only the " + which
                + " text, which has " + length + " tokens, and " + remove + " must go; shorten the texts or raise the"
                + " sequence length");
    }
}

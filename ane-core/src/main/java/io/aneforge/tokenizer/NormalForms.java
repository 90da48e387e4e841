package io.aneforge.tokenizer;

import java.text.Normalizer;

/**
 * The Unicode normal forms NFC, NFD, NFKC and NFKD as the native tokenizer computes them: Unicode 9.0's. Hugging Face's
 * tokenizers normalize with the unicode-normalization-alignments crate (0.1.12, whose tables are Unicode 9.0), not with
 * a current unicode-normalization: DJL's build (tokenizers 0.21) gives ICU4J's Unicode 9.0 normalization on every code
 * point, where Java 17's {@link Normalizer} (Unicode 13.0) reorders, decomposes or composes some that the native one
 * leaves alone, and a Unicode 16.0 normalizer would differ on still more (the 177 code points of 14.0-16.0 that have a
 * decomposition, the new marks).
 * <p>
 * Java 17 differs on {@link #AFTER_UNICODE_9} only: the code points assigned in 10.0-13.0 that it normalizes (marks of
 * a nonzero combining class, which it reorders among other marks and which do not block a composition; compatibility
 * characters it decomposes; the Dives Akuru pair it composes and the letter it decomposes into them); a JDK of a later
 * Unicode version, up to 16.0, on those of 14.0-16.0 the table lists as well. To Unicode 9.0
 * they are unassigned: starters without a decomposition that compose with nothing, so neither reordering nor
 * composition crosses them, and {@link #normalize} runs Java's Normalizer on the text between them and keeps them as they
 * are. Every other code point Java 17 treats as Unicode 9.0 does: those assigned by 9.0 keep their decompositions,
 * classes and compositions in later versions (Unicode's normalization stability policy), and the rest are inert, as
 * unassigned ones are. A test checks the table against ICU4J 76 and the results against ICU's Unicode 9.0
 * normalization and the native tokenizer.
 */
final class NormalForms {
    /**
     * The code points assigned in Unicode 10.0-16.0 that a normalizer of their version does not leave alone in some form,
     * as pairs of first and last code points in order (each line: the version that assigned them, what normalization
     * does with them). Generated from ICU4J 76 by {@code NormalFormsTest.tableSource}. Java 17 (Unicode 13.0) knows only
     * those of 10.0-13.0, the rest being unassigned (inert) to it; listing 14.0-16.0 too keeps the results the same on a
     * JDK of a newer Unicode, up to 16.0.
     */
    static final int[] AFTER_UNICODE_9 = {
            0x07FD, 0x07FD, // 11.0, class 220
            0x0897, 0x0897, // 16.0, class 230
            0x0898, 0x0898, // 14.0, class 230
            0x0899, 0x089B, // 14.0, class 220
            0x089C, 0x089F, // 14.0, class 230
            0x08CA, 0x08CE, // 14.0, class 230
            0x08CF, 0x08D2, // 14.0, class 220
            0x08D3, 0x08D3, // 11.0, class 220
            0x09FE, 0x09FE, // 11.0, class 230
            0x0C3C, 0x0C3C, // 14.0, class 7
            0x0D3B, 0x0D3C, // 10.0, class 9
            0x0EBA, 0x0EBA, // 12.0, class 9
            0x1715, 0x1715, // 14.0, class 9
            0x1ABF, 0x1AC0, // 13.0, class 220
            0x1AC1, 0x1AC2, // 14.0, class 230
            0x1AC3, 0x1AC4, // 14.0, class 220
            0x1AC5, 0x1AC9, // 14.0, class 230
            0x1ACA, 0x1ACA, // 14.0, class 220
            0x1ACB, 0x1ACE, // 14.0, class 230
            0x1DF6, 0x1DF6, // 10.0, class 232
            0x1DF7, 0x1DF8, // 10.0, class 228
            0x1DF9, 0x1DF9, // 10.0, class 220
            0x1DFA, 0x1DFA, // 14.0, class 218
            0x32FF, 0x32FF, // 12.1, compatibility decomposition
            0xA7F2, 0xA7F4, // 14.0, compatibility decomposition
            0xA82C, 0xA82C, // 13.0, class 9
            0xAB69, 0xAB69, // 13.0, compatibility decomposition
            0x105C9, 0x105C9, // 16.0, canonical decomposition
            0x105D2, 0x105D2, // 16.0, composes with the character after it
            0x105DA, 0x105DA, // 16.0, composes with the character after it
            0x105E4, 0x105E4, // 16.0, canonical decomposition
            0x10781, 0x10785, // 14.0, compatibility decomposition
            0x10787, 0x107B0, // 14.0, compatibility decomposition
            0x107B2, 0x107BA, // 14.0, compatibility decomposition
            0x10D24, 0x10D27, // 11.0, class 230
            0x10D69, 0x10D6D, // 16.0, class 230
            0x10EAB, 0x10EAC, // 13.0, class 230
            0x10EFD, 0x10EFF, // 15.0, class 220
            0x10F46, 0x10F47, // 11.0, class 220
            0x10F48, 0x10F4A, // 11.0, class 230
            0x10F4B, 0x10F4B, // 11.0, class 220
            0x10F4C, 0x10F4C, // 11.0, class 230
            0x10F4D, 0x10F50, // 11.0, class 220
            0x10F82, 0x10F82, // 14.0, class 230
            0x10F83, 0x10F83, // 14.0, class 220
            0x10F84, 0x10F84, // 14.0, class 230
            0x10F85, 0x10F85, // 14.0, class 220
            0x11070, 0x11070, // 14.0, class 9
            0x1133B, 0x1133B, // 11.0, class 7
            0x11382, 0x11382, // 16.0, composes with the character after it
            0x11383, 0x11383, // 16.0, canonical decomposition
            0x11384, 0x11384, // 16.0, composes with the character after it
            0x11385, 0x11385, // 16.0, canonical decomposition
            0x1138B, 0x1138B, // 16.0, composes with the character after it
            0x1138E, 0x1138E, // 16.0, canonical decomposition
            0x11390, 0x11390, // 16.0, composes with the character after it
            0x11391, 0x11391, // 16.0, canonical decomposition
            0x113B8, 0x113B8, // 16.0, composes with the character before it
            0x113BB, 0x113BB, // 16.0, composes with the character before it
            0x113C2, 0x113C2, // 16.0, composes with the character before it
            0x113C5, 0x113C5, // 16.0, canonical decomposition
            0x113C7, 0x113C8, // 16.0, canonical decomposition
            0x113C9, 0x113C9, // 16.0, composes with the character before it
            0x113CE, 0x113D0, // 16.0, class 9
            0x1145E, 0x1145E, // 11.0, class 230
            0x11839, 0x11839, // 11.0, class 9
            0x1183A, 0x1183A, // 11.0, class 7
            0x11930, 0x11930, // 13.0, composes with the character before it
            0x11935, 0x11935, // 13.0, composes with the character after it
            0x11938, 0x11938, // 13.0, canonical decomposition
            0x1193D, 0x1193E, // 13.0, class 9
            0x11943, 0x11943, // 13.0, class 7
            0x119E0, 0x119E0, // 12.0, class 9
            0x11A34, 0x11A34, // 10.0, class 9
            0x11A47, 0x11A47, // 10.0, class 9
            0x11A99, 0x11A99, // 10.0, class 9
            0x11D42, 0x11D42, // 10.0, class 7
            0x11D44, 0x11D45, // 10.0, class 9
            0x11D97, 0x11D97, // 11.0, class 9
            0x11F41, 0x11F42, // 15.0, class 9
            0x1611E, 0x16120, // 16.0, composes with the character before it
            0x16121, 0x16128, // 16.0, canonical decomposition
            0x16129, 0x16129, // 16.0, composes with the character before it
            0x1612F, 0x1612F, // 16.0, class 9
            0x16D63, 0x16D63, // 16.0, composes with the character after it
            0x16D67, 0x16D67, // 16.0, composes with the character before it
            0x16D68, 0x16D6A, // 16.0, canonical decomposition
            0x16FF0, 0x16FF1, // 13.0, class 6
            0x1CCD6, 0x1CCF9, // 16.0, compatibility decomposition
            0x1E030, 0x1E06D, // 15.0, compatibility decomposition
            0x1E08F, 0x1E08F, // 15.0, class 230
            0x1E130, 0x1E136, // 12.0, class 230
            0x1E2AE, 0x1E2AE, // 14.0, class 230
            0x1E2EC, 0x1E2EF, // 12.0, class 230
            0x1E4EC, 0x1E4ED, // 15.0, class 232
            0x1E4EE, 0x1E4EE, // 15.0, class 220
            0x1E4EF, 0x1E4EF, // 15.0, class 230
            0x1E5EE, 0x1E5EE, // 16.0, class 230
            0x1E5EF, 0x1E5EF, // 16.0, class 220
            0x1F16C, 0x1F16C, // 12.0, compatibility decomposition
            0x1FBF0, 0x1FBF9, // 13.0, compatibility decomposition
    };

    /** The smallest code point of {@link #AFTER_UNICODE_9}: text below it is Java's alone (ASCII, Latin, Greek, ...). */
    private static final int SMALLEST = AFTER_UNICODE_9[0];

    /**
     * One bit per 256 code points, set where a block holds a code point of {@link #AFTER_UNICODE_9}: most text (CJK,
     * Hangul) is told apart by one array read, without the binary search.
     */
    private static final long[] BLOCKS = blocks();

    private NormalForms() {
    }

    /** {@code text} in the normal form {@code form}, as Unicode 9.0 defines it. */
    static String normalize(String text, Normalizer.Form form) {
        int at = next(text, 0);
        if (at < 0) {
            return Normalizer.normalize(text, form); // the common case: no copy, no allocation beyond Java's
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        int from = 0;
        while (at >= 0) {
            int end = at + Character.charCount(text.codePointAt(at));
            out.append(Normalizer.normalize(text.subSequence(from, at), form)).append(text, at, end);
            from = end;
            at = next(text, from);
        }
        return out.append(Normalizer.normalize(text.subSequence(from, text.length()), form)).toString();
    }

    /** The char index of the first code point of {@link #AFTER_UNICODE_9} at or after {@code from}, or -1. */
    private static int next(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < SMALLEST) {
                continue;
            }
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                cp = Character.toCodePoint(c, text.charAt(i + 1));
            }
            if (isAfterUnicode9(cp)) {
                return i;
            }
            if (cp > Character.MAX_VALUE) {
                i++;
            }
        }
        return -1;
    }

    /** Whether {@code c} is in {@link #AFTER_UNICODE_9}. */
    static boolean isAfterUnicode9(int c) {
        // a long's shift takes the low 6 bits: the block in the word
        return (BLOCKS[c >>> 14] & 1L << (c >>> 8)) != 0 && CodePointRanges.contains(AFTER_UNICODE_9, c);
    }

    private static long[] blocks() {
        long[] blocks = new long[(Character.MAX_CODE_POINT + 1) >>> 14];
        for (int r = 0; r < AFTER_UNICODE_9.length; r += 2) {
            for (int block = AFTER_UNICODE_9[r] >>> 8; block <= AFTER_UNICODE_9[r + 1] >>> 8; block++) {
                blocks[block >>> 6] |= 1L << block;
            }
        }
        return blocks;
    }
}

package io.aneforge.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Extended grapheme clusters as UAX #29 of Unicode 16.0 draws them: the version of the unicode-segmentation crate in
 * the native tokenizer (DJL's build, found by probing it with the characters each Unicode version added), which
 * {@link PrecompiledCharsmap} must match. Java 17's {@code \X} knows Unicode 13 only, and differs in four ways that
 * this class mends:
 * <ul>
 * <li>a code point assigned after 13.0 is unassigned to Java, which breaks around it as if it were a control: its
 *     Grapheme_Cluster_Break, when not Other (combining marks such as U+0ECE, spacing marks, prepended signs, the
 *     Egyptian format controls), comes from {@link #SUPPLEMENT}, as do the two Ahom spacing marks U+11720 and
 *     U+11721 that Java joins though UAX #29 excludes them;</li>
 * <li>any other unassigned code point that Java takes for a control is Other (a control only when
 *     Default_Ignorable), so marks after it join it; those Java already knows as Extended_Pictographic (the reserved
 *     emoji blocks, where Unicode 14.0-16.0 put new emoji) are left to Java, which joins them in emoji ZWJ sequences
 *     (GB11) as Unicode 16.0 does;</li>
 * <li>rule GB9c (Unicode 15.1): no break inside an Indic conjunct, a consonant, a virama (with marks) and a consonant,
 *     from the Indic_Conjunct_Break values {@link #CONSONANTS}, {@link #LINKERS} and Extend (derived, see
 *     {@link #conjunctExtend});</li>
 * <li>rule GB11 (emoji ZWJ sequences), decided here by scanning back from the ZWJ over {@link #gcbExtend}: Java breaks
 *     across a mark assigned after 13.0 (taking it for a control) and joins across a spacing mark, which UAX #29's
 *     Extend* excludes.</li>
 * </ul>
 * A test checks every table against ICU4J 76 (Unicode 16.0) code point by code point, and the clusters against ICU's
 * on every code point in the contexts that these rules concern.
 */
final class GraphemeClusters {
    private static final Pattern GRAPHEME = Pattern.compile("\\X");

    /** The Grapheme_Cluster_Break values that differ from Java 17's (and Control, for unassigned ignorables). */
    enum Gcb { CONTROL, EXTEND, SPACING_MARK, PREPEND, OTHER }

    /** Code points {@code first..last} with the Grapheme_Cluster_Break {@code gcb}. */
    record Range(int first, int last, Gcb gcb) {
    }

    /**
     * Unicode 16.0's Grapheme_Cluster_Break where Java 17's differs, in code point order: the code points assigned in
     * 14.0-16.0 whose value is not Other (each line says the version), and the Ahom pair Java calls SpacingMark.
     */
    static final List<Range> SUPPLEMENT = List.of(
            new Range(0x0890, 0x0891, Gcb.PREPEND), // Unicode 14.0
            new Range(0x0897, 0x0897, Gcb.EXTEND), // Unicode 16.0
            new Range(0x0898, 0x089F, Gcb.EXTEND), // Unicode 14.0
            new Range(0x08CA, 0x08D2, Gcb.EXTEND), // Unicode 14.0
            new Range(0x0C3C, 0x0C3C, Gcb.EXTEND), // Unicode 14.0
            new Range(0x0CF3, 0x0CF3, Gcb.SPACING_MARK), // Unicode 15.0
            new Range(0x0ECE, 0x0ECE, Gcb.EXTEND), // Unicode 15.0
            new Range(0x1715, 0x1715, Gcb.EXTEND), // Unicode 14.0
            new Range(0x180F, 0x180F, Gcb.EXTEND), // Unicode 14.0
            new Range(0x1AC1, 0x1ACE, Gcb.EXTEND), // Unicode 14.0
            new Range(0x1DFA, 0x1DFA, Gcb.EXTEND), // Unicode 14.0
            new Range(0x10D69, 0x10D6D, Gcb.EXTEND), // Unicode 16.0
            new Range(0x10EFC, 0x10EFC, Gcb.EXTEND), // Unicode 16.0
            new Range(0x10EFD, 0x10EFF, Gcb.EXTEND), // Unicode 15.0
            new Range(0x10F82, 0x10F85, Gcb.EXTEND), // Unicode 14.0
            new Range(0x11070, 0x11070, Gcb.EXTEND), // Unicode 14.0
            new Range(0x11073, 0x11074, Gcb.EXTEND), // Unicode 14.0
            new Range(0x110C2, 0x110C2, Gcb.EXTEND), // Unicode 14.0
            new Range(0x11241, 0x11241, Gcb.EXTEND), // Unicode 15.0
            new Range(0x113B8, 0x113B8, Gcb.EXTEND), // Unicode 16.0
            new Range(0x113B9, 0x113BA, Gcb.SPACING_MARK), // Unicode 16.0
            new Range(0x113BB, 0x113C0, Gcb.EXTEND), // Unicode 16.0
            new Range(0x113C2, 0x113C2, Gcb.EXTEND), // Unicode 16.0
            new Range(0x113C5, 0x113C5, Gcb.EXTEND), // Unicode 16.0
            new Range(0x113C7, 0x113C9, Gcb.EXTEND), // Unicode 16.0
            new Range(0x113CA, 0x113CA, Gcb.SPACING_MARK), // Unicode 16.0
            new Range(0x113CC, 0x113CD, Gcb.SPACING_MARK), // Unicode 16.0
            new Range(0x113CE, 0x113D0, Gcb.EXTEND), // Unicode 16.0
            new Range(0x113D1, 0x113D1, Gcb.PREPEND), // Unicode 16.0
            new Range(0x113D2, 0x113D2, Gcb.EXTEND), // Unicode 16.0
            new Range(0x113E1, 0x113E2, Gcb.EXTEND), // Unicode 16.0
            new Range(0x11720, 0x11721, Gcb.OTHER), // Java 17 calls it SpacingMark (UAX #29 excludes it)
            new Range(0x11F00, 0x11F01, Gcb.EXTEND), // Unicode 15.0
            new Range(0x11F02, 0x11F02, Gcb.PREPEND), // Unicode 15.0
            new Range(0x11F03, 0x11F03, Gcb.SPACING_MARK), // Unicode 15.0
            new Range(0x11F34, 0x11F35, Gcb.SPACING_MARK), // Unicode 15.0
            new Range(0x11F36, 0x11F3A, Gcb.EXTEND), // Unicode 15.0
            new Range(0x11F3E, 0x11F3F, Gcb.SPACING_MARK), // Unicode 15.0
            new Range(0x11F40, 0x11F42, Gcb.EXTEND), // Unicode 15.0
            new Range(0x11F5A, 0x11F5A, Gcb.EXTEND), // Unicode 16.0
            new Range(0x13439, 0x1343F, Gcb.CONTROL), // Unicode 15.0 (Egyptian format controls)
            new Range(0x13440, 0x13440, Gcb.EXTEND), // Unicode 15.0
            new Range(0x13447, 0x13455, Gcb.EXTEND), // Unicode 15.0
            new Range(0x1611E, 0x16129, Gcb.EXTEND), // Unicode 16.0
            new Range(0x1612A, 0x1612C, Gcb.SPACING_MARK), // Unicode 16.0
            new Range(0x1612D, 0x1612F, Gcb.EXTEND), // Unicode 16.0
            new Range(0x1CF00, 0x1CF2D, Gcb.EXTEND), // Unicode 14.0
            new Range(0x1CF30, 0x1CF46, Gcb.EXTEND), // Unicode 14.0
            new Range(0x1E08F, 0x1E08F, Gcb.EXTEND), // Unicode 15.0
            new Range(0x1E2AE, 0x1E2AE, Gcb.EXTEND), // Unicode 14.0
            new Range(0x1E4EC, 0x1E4EF, Gcb.EXTEND), // Unicode 15.0
            new Range(0x1E5EE, 0x1E5EF, Gcb.EXTEND) // Unicode 16.0
    );

    /** Indic_Conjunct_Break=Consonant (Unicode 16.0), as pairs of first and last code points. */
    static final int[] CONSONANTS = {
        0x0915, 0x0939, 0x0958, 0x095F, 0x0978, 0x097F, 0x0995, 0x09A8, 0x09AA, 0x09B0, 0x09B2, 0x09B2, 0x09B6, 0x09B9,
        0x09DC, 0x09DD, 0x09DF, 0x09DF, 0x09F0, 0x09F1, 0x0A95, 0x0AA8, 0x0AAA, 0x0AB0, 0x0AB2, 0x0AB3, 0x0AB5, 0x0AB9,
        0x0AF9, 0x0AF9, 0x0B15, 0x0B28, 0x0B2A, 0x0B30, 0x0B32, 0x0B33, 0x0B35, 0x0B39, 0x0B5C, 0x0B5D, 0x0B5F, 0x0B5F,
        0x0B71, 0x0B71, 0x0C15, 0x0C28, 0x0C2A, 0x0C39, 0x0C58, 0x0C5A, 0x0D15, 0x0D3A,
    };

    /** Indic_Conjunct_Break=Linker (Unicode 16.0): the viramas of Devanagari, Bengali, Gujarati, Oriya, Telugu, Malayalam. */
    static final int[] LINKERS = {0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D};

    /**
     * Indic_Conjunct_Break=Extend code points that Java's general category does not make marks: spacing marks with
     * Grapheme_Extend (vowel signs and length marks that canonical equivalence needs), as pairs of first and last.
     */
    static final int[] EXTEND_SPACING_MARKS = {
        0x09BE, 0x09BE, 0x09D7, 0x09D7, 0x0B3E, 0x0B3E, 0x0B57, 0x0B57, 0x0BBE, 0x0BBE, 0x0BD7, 0x0BD7, 0x0CC0, 0x0CC0,
        0x0CC2, 0x0CC2, 0x0CC7, 0x0CC8, 0x0CCA, 0x0CCB, 0x0CD5, 0x0CD6, 0x0D3E, 0x0D3E, 0x0D57, 0x0D57, 0x0DCF, 0x0DCF,
        0x0DDF, 0x0DDF, 0x1B35, 0x1B35, 0x1B3B, 0x1B3B, 0x1B3D, 0x1B3D, 0x1B43, 0x1B44, 0x1BAA, 0x1BAA, 0x1BF2, 0x1BF3,
        0x302E, 0x302F, 0xA953, 0xA953, 0xA9C0, 0xA9C0, 0x111C0, 0x111C0, 0x11235, 0x11235, 0x1133E, 0x1133E, 0x1134D,
        0x1134D, 0x11357, 0x11357, 0x114B0, 0x114B0, 0x114BD, 0x114BD, 0x115AF, 0x115AF, 0x116B6, 0x116B6, 0x11930,
        0x11930, 0x1193D, 0x1193D, 0x16FF0, 0x16FF1, 0x1D165, 0x1D166, 0x1D16D, 0x1D172,
    };

    /** A nonspacing mark in Java 17 that Unicode 16.0 made a spacing mark (Ahom), so no Indic_Conjunct_Break=Extend. */
    private static final int AHOM_SIGN_KILLER = 0x1171E;

    private static final int ZWJ = 0x200D;
    /** U+1F600 GRINNING FACE, Extended_Pictographic: Java's \X next to it tells what GB11 makes of another code point. */
    private static final String EMOJI = "\uD83D\uDE00";

    private static final int[] SUPPLEMENT_FIRSTS = SUPPLEMENT.stream().mapToInt(Range::first).toArray();

    private GraphemeClusters() {
    }

    /** The extended grapheme clusters of {@code text}, as Unicode 16.0 draws them. */
    static List<String> of(String text) {
        int[] cps = text.codePoints().toArray();
        boolean[] javaBreak = new boolean[cps.length]; // javaBreak[i]: \X breaks before cps[i]
        Matcher m = GRAPHEME.matcher(text);
        int at = 0; // the code point index of char offset `chars`
        int chars = 0;
        while (m.find()) {
            while (chars < m.start()) {
                chars += Character.charCount(cps[at++]);
            }
            javaBreak[at] = true;
        }
        List<String> out = new ArrayList<>();
        StringBuilder cluster = new StringBuilder();
        for (int i = 0; i < cps.length; i++) {
            if (i > 0 && breaksBefore(cps, i, javaBreak[i])) {
                out.add(cluster.toString());
                cluster.setLength(0);
            }
            cluster.appendCodePoint(cps[i]);
        }
        if (cluster.length() > 0) {
            out.add(cluster.toString());
        }
        return out;
    }

    /** Whether Unicode 16.0 breaks between {@code cps[i - 1]} and {@code cps[i]}, where Java says {@code javaBreak}. */
    private static boolean breaksBefore(int[] cps, int i, boolean javaBreak) {
        int x = cps[i - 1];
        int y = cps[i];
        Gcb gx = differing(x);
        Gcb gy = differing(y);
        if (insideConjunct(cps, i)) {
            return false; // GB9c, which Java lacks (no control can be inside a conjunct: GB4 and GB5 do not apply)
        }
        if (x == ZWJ && gy == null && javaJoins(EMOJI + "\u200D", y) && !javaJoins("a", y)) { // y is an emoji
            // GB11, the only rule that can join an emoji to a ZWJ: Java 17 breaks across a mark it does not know
            // (taking it for a control) and joins across spacing marks, which UAX #29 excludes
            return !pictographicBefore(cps, i - 1);
        }
        if (gx == null && gy == null) {
            return javaBreak;
        }
        // the rules that can apply to a code point whose value Java gets wrong
        if (isControl(x, gx) || isControl(y, gy)) {
            return true; // GB4, GB5
        }
        if (gy == Gcb.EXTEND || gy == Gcb.SPACING_MARK || (gy == null && javaJoins("a", y))) {
            return false; // GB9, GB9a: x Extend, ZWJ or SpacingMark
        }
        if (gx == Gcb.PREPEND || (gx == null && javaJoins(x, "a"))) {
            return false; // GB9b
        }
        return true; // GB999: Hangul, regional indicator and emoji rules involve no code point of the tables
    }

    /** GB11's left side: {@code cps[zwj]}, a ZWJ, follows an Extended_Pictographic code point and Extend ones. */
    private static boolean pictographicBefore(int[] cps, int zwj) {
        int j = zwj - 1;
        while (j >= 0 && gcbExtend(cps[j])) {
            j--;
        }
        // Java's GB11 after a lone code point is right: it is Extended_Pictographic if Java joins an emoji after it
        // and a ZWJ (no supplemented code point is)
        return j >= 0 && differing(cps[j]) == null
                && javaJoins(new String(Character.toChars(cps[j])) + "\u200D", EMOJI);
    }

    /** Grapheme_Cluster_Break=Extend (Unicode 16.0): Indic_Conjunct_Break=Extend less ZWJ, plus linkers and ZWNJ. */
    static boolean gcbExtend(int c) {
        return c != ZWJ && (conjunctExtend(c) || isLinker(c) || c == 0x200C);
    }

    /** The value Java 17 gets wrong for {@code c}, or null where Java's \X treats it as Unicode 16.0 does. */
    static Gcb differing(int c) {
        int i = Arrays.binarySearch(SUPPLEMENT_FIRSTS, c);
        i = i >= 0 ? i : -i - 2;
        if (i >= 0 && c <= SUPPLEMENT.get(i).last()) {
            return SUPPLEMENT.get(i).gcb();
        }
        // Java takes an unassigned code point for a control, except those it already knows as Extended_Pictographic
        // (the reserved emoji blocks, e.g. U+1FAF0 of Unicode 14.0) and U+0378: these it clusters as Unicode 16.0
        // does, GB11 included (U+1F600 ZWJ U+1FAF0 is one cluster), which an Other here would break
        if (Character.getType(c) == Character.UNASSIGNED && !javaJoins(c, "\u0300")) {
            return defaultIgnorable(c) ? Gcb.CONTROL : Gcb.OTHER;
        }
        return null;
    }

    /** Control, CR or LF: for a code point Java knows, what it will not join to the mark after it. */
    private static boolean isControl(int c, Gcb gcb) {
        return gcb == null ? !javaJoins(c, "\u0300") : gcb == Gcb.CONTROL;
    }

    private static boolean javaJoins(int first, String second) {
        return javaJoins(new String(Character.toChars(first)), second);
    }

    private static boolean javaJoins(String first, int second) {
        return javaJoins(first, new String(Character.toChars(second)));
    }

    private static boolean javaJoins(String first, String second) {
        Matcher m = GRAPHEME.matcher(first + second);
        return m.find() && m.end() == first.length() + second.length();
    }

    /**
     * GB9c: {@code cps[i]} is a consonant after a consonant, then Extend or Linker code points with at least one Linker.
     */
    private static boolean insideConjunct(int[] cps, int i) {
        if (!in(CONSONANTS, cps[i])) {
            return false;
        }
        boolean linked = false;
        int j = i - 1;
        for (; j >= 0; j--) {
            if (isLinker(cps[j])) {
                linked = true;
            } else if (!conjunctExtend(cps[j])) {
                break;
            }
        }
        return linked && j >= 0 && in(CONSONANTS, cps[j]);
    }

    static boolean isLinker(int c) {
        return Arrays.binarySearch(LINKERS, c) >= 0;
    }

    /**
     * Indic_Conjunct_Break=Extend, which Unicode 16.0 defines as Grapheme_Cluster_Break Extend or ZWJ less the
     * linkers and ZWNJ: Java's nonspacing and enclosing marks, ZWJ, the tags, the half-width sound marks and emoji
     * modifiers (Java's own Extend list), the supplemented Extend code points and {@link #EXTEND_SPACING_MARKS}.
     */
    static boolean conjunctExtend(int c) {
        if (isLinker(c) || c == 0x200C || c == AHOM_SIGN_KILLER) {
            return false;
        }
        Gcb gcb = differing(c);
        if (gcb != null) {
            return gcb == Gcb.EXTEND;
        }
        int type = Character.getType(c);
        return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK || c == 0x200D
                || (c >= 0xE0020 && c <= 0xE007F) || c == 0xFF9E || c == 0xFF9F || (c >= 0x1F3FB && c <= 0x1F3FF)
                || in(EXTEND_SPACING_MARKS, c);
    }

    /** Whether {@code c} is in one of the {@code ranges} (pairs of first and last code points, in order). */
    private static boolean in(int[] ranges, int c) {
        for (int r = 0; r < ranges.length && ranges[r] <= c; r += 2) {
            if (c <= ranges[r + 1]) {
                return true;
            }
        }
        return false;
    }

    /** The unassigned code points UAX #29 counts as controls: those that are Default_Ignorable_Code_Point. */
    private static boolean defaultIgnorable(int c) {
        return c == 0x2065 || (c >= 0xFFF0 && c <= 0xFFF8) || (c >= 0xE0000 && c <= 0xE0FFF);
    }
}

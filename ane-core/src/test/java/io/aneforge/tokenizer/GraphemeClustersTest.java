package io.aneforge.tokenizer;

import static io.aneforge.tokenizer.CodePoints.escape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.lang.UProperty;
import com.ibm.icu.text.BreakIterator;
import com.ibm.icu.text.UnicodeSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link GraphemeClusters}' tables equal ICU4J 76's Unicode 16.0 data (so they cannot drift), its clusters equal ICU's
 * on every code point in the contexts its rules concern, and the Java tokenizer normalizes as the native one on text
 * built from the code points it mends.
 */
class GraphemeClustersTest {
    private static final String VIRAMA_AFTER_KA = "\u0915\u094D";
    /** U+1F600 GRINNING FACE and ZWJ: an emoji ZWJ sequence that the next emoji continues. */
    private static final String GRINNING_ZWJ = "\uD83D\uDE00\u200D";
    /** U+1FAF0 HAND WITH INDEX FINGER AND THUMB CROSSED, an emoji of Unicode 14.0. */
    private static final String HAND_1FAF0 = "\uD83E\uDEF0";

    @Test
    void icuIsUnicode16AsTheNativeTokenizer() {
        assertThat(UCharacter.getUnicodeVersion().getMajor()).isEqualTo(16);
    }

    @Test
    void theSupplementIsIcusValueWhereverJavaDiffers() {
        Set<Integer> listed = new LinkedHashSet<>();
        for (GraphemeClusters.Range range : GraphemeClusters.SUPPLEMENT) {
            for (int c = range.first(); c <= range.last(); c++) {
                listed.add(c);
                assertThat(range.gcb()).as("U+%04X", c).isEqualTo(icuGcb(c));
                assertThat(Character.getType(c) == Character.UNASSIGNED || c == 0x11720 || c == 0x11721)
                        .as("U+%04X is assigned after Unicode 13 or one of the Ahom pair", c).isTrue();
            }
        }
        // and nothing is missing: every code point whose break class Java gets wrong (or that Java has unassigned and
        // Unicode 16.0 makes neither Other nor, when default-ignorable, Control, as GraphemeClusters derives) is in it
        List<String> missing = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (Character.isSurrogate((char) c) && c <= 0xFFFF) {
                continue;
            }
            String icu = coarse(icuGcb(c));
            boolean unassignedOther = Character.getType(c) == Character.UNASSIGNED && icuGcb(c)
                    == (UCharacter.hasBinaryProperty(c, UProperty.DEFAULT_IGNORABLE_CODE_POINT)
                    ? GraphemeClusters.Gcb.CONTROL : GraphemeClusters.Gcb.OTHER);
            boolean derived = Character.getType(c) == Character.UNASSIGNED ? unassignedOther : icu.equals(javaClass(c));
            if (!derived && !listed.contains(c)) {
                missing.add(String.format("U+%04X", c));
            }
        }
        assertThat(missing).isEmpty();
    }

    @Test
    void theConjunctAndExtendTablesAreIcus() {
        UnicodeSet consonants = new UnicodeSet("[\\p{InCB=Consonant}]");
        UnicodeSet linkers = new UnicodeSet("[\\p{InCB=Linker}]");
        UnicodeSet extend = new UnicodeSet("[\\p{InCB=Extend}]");
        List<String> wrong = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            boolean consonant = false;
            for (int r = 0; r < GraphemeClusters.CONSONANTS.length; r += 2) {
                consonant |= c >= GraphemeClusters.CONSONANTS[r] && c <= GraphemeClusters.CONSONANTS[r + 1];
            }
            if (consonant != consonants.contains(c) || GraphemeClusters.isLinker(c) != linkers.contains(c)
                    || GraphemeClusters.conjunctExtend(c) != extend.contains(c)
                    || GraphemeClusters.gcbExtend(c) != (UCharacter.getIntPropertyValue(c,
                            UProperty.GRAPHEME_CLUSTER_BREAK) == UCharacter.GraphemeClusterBreak.EXTEND)) {
                wrong.add(String.format("U+%04X", c));
            }
        }
        assertThat(wrong).isEmpty();
    }

    @Test
    void clustersAreIcusOnEveryCodePoint() {
        // planes 4-13 are unassigned and 15-16 private use (less two noncharacters each), in Unicode 16.0 as in Java
        // 17, all Other and none emoji: the samples of sampledPlane stand for the rest (30 s saved)
        UnicodeSet unassigned = new UnicodeSet("[[:Cn:]&[:GCB=Other:]&[:^Extended_Pictographic:]]");
        UnicodeSet privateUse = new UnicodeSet("[[:Co:]&[:GCB=Other:]&[:^Extended_Pictographic:]]");
        assertThat(unassigned.containsAll(new UnicodeSet(0x40000, 0xDFFFF))).isTrue();
        assertThat(privateUse.containsAll(new UnicodeSet(0xF0000, 0xFFFFD).add(0x100000, 0x10FFFD))).isTrue();
        assertThat(unassigned.containsAll(new UnicodeSet(0xFFFFE, 0xFFFFF).add(0x10FFFE, 0x10FFFF))).isTrue();
        List<String> javaOtherwise = new ArrayList<>();
        for (int c = 0x40000; c <= Character.MAX_CODE_POINT; c++) {
            int expected = c < 0xE0000 || (c & 0xFFFF) >= 0xFFFE ? Character.UNASSIGNED : Character.PRIVATE_USE;
            if (sampledPlane(c) && Character.getType(c) != expected) {
                javaOtherwise.add(String.format("U+%04X", c));
            }
        }
        assertThat(javaOtherwise).isEmpty();
        List<String> wrong = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (c >= 0xD800 && c <= 0xDFFF || sampledPlane(c) && !SAMPLES.contains(c & 0xFFFF)) {
                continue;
            }
            String s = new String(Character.toChars(c));
            // after a letter (GB9, GB9a), before one (GB9b), as a base (GB4 for unassigned code points), inside a
            // conjunct (GB9c, with the accent that makes the cluster after the virama 5 bytes), after a Prepend, in
            // an emoji ZWJ sequence and inside one (GB11: the emoji added after Unicode 13 are unassigned to Java, and
            // so are the marks an emoji can take)
            for (String text : List.of("a" + s, s + "a", s + "\u0300", VIRAMA_AFTER_KA + s + "\u0301",
                    "\u0915" + s + "\u0915", "\u0600" + s, s + "\u0ECE\u0300", GRINNING_ZWJ + s,
                    "\uD83D\uDE00" + s + "\u200D\uD83D\uDE00")) {
                if (!GraphemeClusters.of(text).equals(icuClusters(text))) {
                    wrong.add(String.format("U+%04X in %s", c, escape(text)));
                }
            }
        }
        assertThat(wrong).isEmpty();
    }

    /** The code points of each plane {@link #sampledPlane} that clustersAreIcusOnEveryCodePoint tries. */
    private static final Set<Integer> SAMPLES = Set.of(0x0000, 0x0001, 0x8000, 0xFFFD, 0xFFFE, 0xFFFF);

    /** Planes 4-13 and 15-16, uniform in Unicode 16.0 and Java 17 (clustersAreIcusOnEveryCodePoint checks). */
    private static boolean sampledPlane(int c) {
        int plane = c >> 16;
        return plane >= 4 && plane <= 13 || plane >= 15;
    }

    @Test
    void mendsWhatJava17SplitsAndJoinsWrongly() {
        assertThat(GraphemeClusters.of("a\u0ECE")).containsExactly("a\u0ECE"); // Unicode 15.0 mark
        assertThat(GraphemeClusters.of("\u0890a")).containsExactly("\u0890a"); // Unicode 14.0 Prepend
        assertThat(GraphemeClusters.of("a\uD805\uDF20")).containsExactly("a", "\uD805\uDF20"); // Ahom U+11720
        assertThat(GraphemeClusters.of("\u0915\u094D\u0937")).containsExactly("\u0915\u094D\u0937"); // GB9c
        assertThat(GraphemeClusters.of("\u3097\u0340\u06DC")).containsExactly("\u3097\u0340\u06DC"); // unassigned base
        assertThat(GraphemeClusters.of("\r\n\u0ECEx")).containsExactly("\r\n", "\u0ECE", "x"); // GB4 first
        // GB11 with an emoji Java 17 has unassigned (but knows as Extended_Pictographic), after and before ZWJ
        assertThat(GraphemeClusters.of(GRINNING_ZWJ + HAND_1FAF0)).containsExactly(GRINNING_ZWJ + HAND_1FAF0);
        assertThat(GraphemeClusters.of("\u00A9\u200D" + HAND_1FAF0)).containsExactly("\u00A9\u200D" + HAND_1FAF0);
        assertThat(GraphemeClusters.of(HAND_1FAF0 + "\u0301\u200D\uD83D\uDE00"))
                .containsExactly(HAND_1FAF0 + "\u0301\u200D\uD83D\uDE00");
        assertThat(GraphemeClusters.of("a\u200D" + HAND_1FAF0)).containsExactly("a\u200D", HAND_1FAF0);
        // GB11 across a Unicode 15.0 mark (Java 17: four clusters), and not across a spacing mark (Java 17: one)
        assertThat(GraphemeClusters.of("\uD83D\uDE00\u0ECE\u0301\u200D\uD83D\uDE00"))
                .containsExactly("\uD83D\uDE00\u0ECE\u0301\u200D\uD83D\uDE00");
        assertThat(GraphemeClusters.of("\uD83D\uDE00\u0903\u200D\uD83D\uDE00"))
                .containsExactly("\uD83D\uDE00\u0903\u200D", "\uD83D\uDE00");
        assertThat(GraphemeClusters.of("")).isEmpty();
        // a lone surrogate is a control (UAX #29: Cs is Control; GB4, GB5), as to Java's \X, even before a mark Java
        // 17 does not know (ICU's BreakIterator joins U+D800 U+0ECE, but Rust strings hold no lone surrogate)
        assertThat(GraphemeClusters.of("\uD800\u0ECE")).containsExactly("\uD800", "\u0ECE");
        assertThat(GraphemeClusters.of("a\uDC00")).containsExactly("a", "\uDC00");
        assertThat(GraphemeClusters.of("\uDC00\u0301")).containsExactly("\uDC00", "\u0301");
    }

    /**
     * The native tokenizer (Unicode 16.0 clusters) and the Java one on text built from every supplemented code point,
     * every conjunct consonant and U+0ECE: each probe is a cluster under 6 bytes whose whole lookup drops the mark
     * (or the letter after a Prepend) where character-by-character lookup keeps it, so a wrong break changes the ids.
     */
    @Test
    void normalizesAsTheNativeTokenizerOnTheMendedCodePoints(@TempDir Path dir) throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        Map<String, String> rules = new LinkedHashMap<>();
        rules.put("a", "b");
        Set<String> pieces = new LinkedHashSet<>(List.of("\u2581", "a", "b", "q", "\u0301", "\u0915", "\u094D"));
        List<String> texts = new ArrayList<>();
        for (GraphemeClusters.Range range : GraphemeClusters.SUPPLEMENT) {
            if (range.gcb() == GraphemeClusters.Gcb.CONTROL) {
                continue; // a control breaks in Java 17 too: no probe tells the two apart
            }
            for (int c = range.first(); c <= range.last(); c++) {
                String s = new String(Character.toChars(c));
                pieces.add(s);
                if (range.gcb() == GraphemeClusters.Gcb.PREPEND) {
                    rules.put(s, "q");
                    texts.add(s + "a");
                } else {
                    texts.add("a" + s);
                }
            }
        }
        for (int r = 0; r < GraphemeClusters.CONSONANTS.length; r += 2) {
            for (int c = GraphemeClusters.CONSONANTS[r]; c <= GraphemeClusters.CONSONANTS[r + 1]; c++) {
                String s = new String(Character.toChars(c));
                rules.putIfAbsent(s, "b");
                pieces.add(s);
                texts.add(VIRAMA_AFTER_KA + s + "\u0301");
            }
        }
        texts.add("a\u0ECE a\u0ECE\u0ECE \u0ECE");
        // an emoji ZWJ sequence Java 17 draws right too: one 9-byte cluster looked up character by character, where a
        // break before U+1FAF0 would look up the 5-byte "(c) ZWJ" whole and drop the ZWJ
        String copyrightZwjHand = "\u00A9\u200D" + HAND_1FAF0;
        rules.put("\u00A9", "b");
        pieces.addAll(List.of("\u200D", HAND_1FAF0));
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, SentencePieceFixture.xlmRobertaJson(root -> {
            ObjectNode precompiled = (ObjectNode) root.path("normalizer").path("normalizers").get(0);
            precompiled.put("precompiled_charsmap", Base64.getEncoder().encodeToString(
                    SentencePieceFixture.charsmap(rules)));
            ArrayNode vocab = ((ObjectNode) root.path("model")).putArray("vocab");
            for (String special : List.of("<s>", "<pad>", "</s>", "<unk>")) {
                vocab.addArray().add(special).add(0.0);
            }
            for (String piece : pieces) {
                vocab.addArray().add(piece).add(-1.0);
            }
            vocab.addArray().add("<mask>").add(0.0);
            ((ObjectNode) root.path("added_tokens").get(4)).put("id", pieces.size() + 4);
        }));
        PrecompiledCharsmap charsmap = PrecompiledCharsmap.parse(file, SentencePieceFixture.charsmap(rules));
        List<String> insensitive = new ArrayList<>();
        try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
            for (String text : texts) {
                assertThat(java.encode(text, 32).ids()).as(escape(text)).isEqualTo(ref.encode(text, 32).ids());
                // each probe tells the clusters apart: Java 17's \X clusters would normalize it otherwise
                if (charsmap.normalize(text).equals(charsmap.normalize(text, GraphemeClustersTest::java17Clusters))) {
                    insensitive.add(escape(text));
                }
            }
            assertThat(java.encode(copyrightZwjHand, 32).ids()).isEqualTo(ref.encode(copyrightZwjHand, 32).ids());
        }
        assertThat(insensitive).isEmpty();
        assertThat(charsmap.normalize(copyrightZwjHand)).isEqualTo("b\u200D" + HAND_1FAF0);
    }

    /** The clusters of Java's own {@code \X} (Unicode 13 on Java 17), as before the mend. */
    private static List<String> java17Clusters(String text) {
        List<String> out = new ArrayList<>();
        var m = GRAPHEME.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    private static List<String> icuClusters(String text) {
        BreakIterator it = BreakIterator.getCharacterInstance();
        it.setText(text);
        List<String> out = new ArrayList<>();
        for (int start = it.first(), end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
            out.add(text.substring(start, end));
        }
        return out;
    }

    private static GraphemeClusters.Gcb icuGcb(int c) {
        return switch (UCharacter.getIntPropertyValue(c, UProperty.GRAPHEME_CLUSTER_BREAK)) {
            case UCharacter.GraphemeClusterBreak.EXTEND, UCharacter.GraphemeClusterBreak.ZWJ ->
                    GraphemeClusters.Gcb.EXTEND;
            case UCharacter.GraphemeClusterBreak.SPACING_MARK -> GraphemeClusters.Gcb.SPACING_MARK;
            case UCharacter.GraphemeClusterBreak.PREPEND -> GraphemeClusters.Gcb.PREPEND;
            case UCharacter.GraphemeClusterBreak.CONTROL, UCharacter.GraphemeClusterBreak.CR,
                    UCharacter.GraphemeClusterBreak.LF -> GraphemeClusters.Gcb.CONTROL;
            default -> GraphemeClusters.Gcb.OTHER;
        };
    }

    /** What a break class does next to a letter: joins after it, before it, refuses a mark, or none of these. */
    private static String coarse(GraphemeClusters.Gcb gcb) {
        return switch (gcb) {
            case EXTEND, SPACING_MARK -> "after";
            case PREPEND -> "before";
            case CONTROL -> "control";
            case OTHER -> "other";
        };
    }

    private static final Pattern GRAPHEME = Pattern.compile("\\X");

    private static String javaClass(int c) {
        String s = new String(Character.toChars(c));
        if (javaOneCluster("a" + s)) {
            return "after";
        }
        if (javaOneCluster(s + "a")) {
            return "before";
        }
        return javaOneCluster(s + "\u0300") ? "other" : "control";
    }

    private static boolean javaOneCluster(String text) {
        var m = GRAPHEME.matcher(text);
        return m.find() && m.end() == text.length();
    }
}

package io.aneforge.tokenizer;

import static io.aneforge.tokenizer.CodePoints.escape;
import static io.aneforge.tokenizer.CodePoints.listed;
import static io.aneforge.tokenizer.CodePoints.ranges;
import static io.aneforge.tokenizer.CodePoints.rangesSource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.text.UnicodeSet;
import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * BERT's {@code strip_accents} in the Java WordPiece tokenizer: NFD as Unicode 9.0 ({@link NormalForms}), then the
 * nonspacing marks of Unicode 8.0 dropped, as the native tokenizer does. The mark table is ICU4J 76's data
 * (so it cannot drift; {@link #tableSource} regenerates it), and the Java tokenizer strips as the native one on every
 * nonspacing mark Java knows, on the code points of {@link NormalForms#AFTER_UNICODE_9} in context and on random
 * strings.
 */
class StripAccentsTest {
    /**
     * Nonspacing marks in Java 17 and ICU4J 76, assigned by Unicode 8.0, that the native tokenizer keeps: their general
     * category was another in 8.0 (ICU knows only the current one, so the native tokenizer's behaviour pins them).
     */
    private static final Set<Integer> MN_AFTER_8 = Set.of(0x1885, 0x1886, 0xA9BD, 0x111C9);

    /**
     * Nonspacing marks of Unicode 8.0 that are spacing marks (Mc) since 14.0, to ICU4J 76 (Java 17 still has them Mn):
     * the native tokenizer strips them.
     */
    private static final Set<Integer> MN_IN_8_NOW_MC = Set.of(0x1734, 0x1171E);

    /** The nonspacing marks of Unicode 8.0: ICU's Mn of that age, less and plus the pinned ones. */
    private static UnicodeSet marksOfUnicode8() {
        UnicodeSet out = new UnicodeSet("[[:Mn:]&[:age=8.0:]]");
        MN_AFTER_8.forEach(out::remove);
        MN_IN_8_NOW_MC.forEach(out::add);
        return out;
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Java 17's nonspacing marks that Unicode 8.0 did not have as such (assigned later, or of another category). */
    private static UnicodeSet marksAfterUnicode8() {
        UnicodeSet unicode8 = new UnicodeSet("[:age=8.0:]");
        UnicodeSet out = new UnicodeSet();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (Character.getType(c) == Character.NON_SPACING_MARK && (!unicode8.contains(c) || MN_AFTER_8.contains(c))) {
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void theTableIsUnicode8sMarks() {
        UnicodeSet unicode8 = new UnicodeSet("[:age=8.0:]");
        for (int c : MN_AFTER_8) {
            assertThat(unicode8.contains(c) && UCharacter.getType(c) == UCharacter.NON_SPACING_MARK).as("U+%04X", c)
                    .isTrue();
        }
        for (int c : MN_IN_8_NOW_MC) {
            assertThat(unicode8.contains(c) && UCharacter.getType(c) == UCharacter.COMBINING_SPACING_MARK)
                    .as("U+%04X", c).isTrue();
        }
        UnicodeSet listed = listed(BertCharacters.MARKS_OF_UNICODE_8);
        assertThat(ranges(listed)).as("BertCharacters.MARKS_OF_UNICODE_8 should be:%n%s", tableSource())
                .isEqualTo(ranges(marksOfUnicode8()));
        List<String> wrong = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (BertCharacters.isStrippedMark(c) != listed.contains(c)) {
                wrong.add(String.format("U+%04X", c));
            }
        }
        assertThat(wrong).as("isStrippedMark against the table").isEmpty();
    }

    /** The Java source of {@link BertCharacters#MARKS_OF_UNICODE_8}, from ICU4J's ages and categories. */
    static String tableSource() {
        return rangesSource(marksOfUnicode8());
    }

    @Test
    void stripsTheAccentsOfUnicode8AfterUnicode9sNfd(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, bertJson(Set.of()));
        WordPieceTokenizer java = (WordPieceTokenizer) Tokenizer.loadPureJava(file);
        assertThat(java.normalize("cafe\u0301 \u00E9t\u00E9 \u1EC7")).isEqualTo("cafe ete e");
        // a mark of 10.0 (Java 17 strips it) and one of 8.0 that was not yet Mn: kept, as the native tokenizer keeps
        // them; a mark of 8.0 beside them still goes
        assertThat(java.normalize("x\u1DF6\u0301")).isEqualTo("x\u1DF6");
        assertThat(java.normalize("\u1820\u1885\u0300")).isEqualTo("\u1820\u1885");
        // U+11938 (13.0) has no decomposition in Unicode 9.0 (Java 17 splits it into U+11935 U+11930)
        assertThat(java.normalize("x\uD806\uDD38")).isEqualTo("x\uD806\uDD38");
    }

    /**
     * The native tokenizer and the Java one with {@code strip_accents}: on x and every nonspacing mark Java knows, every
     * code point of {@link NormalForms#AFTER_UNICODE_9} in {@link NormalFormsTest#CONTEXTS}, and random strings of
     * {@link NormalFormsTest}'s pool. Every code point of the texts and of their decompositions is a piece (alone and as
     * a {@code ##} continuation), so the ids spell each normalized word.
     */
    @Test
    void stripsAsTheNativeTokenizer(@TempDir Path dir) throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        List<String> texts = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (Character.getType(c) == Character.NON_SPACING_MARK) {
                texts.add("x" + new String(Character.toChars(c)));
            }
        }
        for (int r = 0; r < NormalForms.AFTER_UNICODE_9.length; r += 2) {
            for (int c = NormalForms.AFTER_UNICODE_9[r]; c <= NormalForms.AFTER_UNICODE_9[r + 1]; c++) {
                for (String context : NormalFormsTest.CONTEXTS) {
                    texts.add(String.format(context, new String(Character.toChars(c))));
                }
            }
        }
        Random random = new Random(8);
        for (int i = 0; i < 3_000; i++) {
            texts.add(NormalFormsTest.randomText(random, false));
        }
        Set<Integer> pieces = new TreeSet<>();
        for (String text : texts) {
            text.codePoints().forEach(pieces::add);
            Normalizer.normalize(text, Normalizer.Form.NFD).codePoints().forEach(pieces::add);
        }
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, bertJson(pieces));
        Set<Integer> unlikeJava17 = new LinkedHashSet<>();
        List<String> wrong = new ArrayList<>();
        try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
            for (String text : texts) {
                if (!Arrays.equals(java.encode(text, 128).ids(), ref.encode(text, 128).ids())) {
                    wrong.add(escape(text));
                }
                if (!((WordPieceTokenizer) java).normalize(text).equals(java17(text))) {
                    text.codePoints().forEach(unlikeJava17::add);
                }
            }
        }
        assertThat(wrong).isEmpty();
        // U+111C9 is kept by both, and both pre-tokenizers split the word at it: punctuation (Po) to the native one's
        // Unicode 8.0 tables, where Java 17's categories make it a mark (BertCharacters.PUNCTUATION_OF_UNICODE_8)
        try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
            int x = ref.encode("x", 8).ids()[1];
            assertThat(ref.encode("x\uD804\uDDC9", 8).ids()).startsWith(2, x, pieceId(file, "\uD804\uDDC9"), 3);
            assertThat(java.encode("x\uD804\uDDC9", 8).ids()).startsWith(2, x, pieceId(file, "\uD804\uDDC9"), 3);
        }
        // the probes tell the mend apart: each table mark, and U+11938, is in a text Java 17 would strip otherwise
        UnicodeSet probed = new UnicodeSet();
        unlikeJava17.forEach(probed::add);
        assertThat(probed.containsAll(marksAfterUnicode8())).isTrue();
        assertThat(probed.contains(0x11938)).isTrue();
    }

    private static int pieceId(Path file, String piece) throws Exception {
        return JSON.readTree(Files.readString(file)).path("model").path("vocab").path(piece).asInt(-1);
    }

    /** Java 17's accent stripping, as before the mend: its NFD, then its nonspacing marks dropped. */
    private static String java17(String text) {
        StringBuilder out = new StringBuilder();
        Normalizer.normalize(text, Normalizer.Form.NFD).codePoints()
                .filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(out::appendCodePoint);
        return out.toString();
    }

    /**
     * The tiny BERT tokenizer.json with {@code strip_accents} on, lowercasing and the control cleanup off (they are
     * not what this test compares), and each of {@code extra} a piece alone and after {@code ##}.
     */
    private static String bertJson(Set<Integer> extra) {
        ObjectNode root = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        ObjectNode normalizer = (ObjectNode) root.path("normalizer");
        normalizer.put("clean_text", false).put("strip_accents", true).put("lowercase", false);
        ObjectNode vocab = (ObjectNode) root.path("model").path("vocab");
        for (int c : extra) {
            String s = new String(Character.toChars(c));
            for (String piece : List.of(s, "##" + s)) {
                if (!vocab.has(piece)) {
                    vocab.put(piece, vocab.size());
                }
            }
        }
        return JSON.writeValueAsString(root);
    }
}

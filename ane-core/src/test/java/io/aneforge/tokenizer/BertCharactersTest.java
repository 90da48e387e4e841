package io.aneforge.tokenizer;

import static io.aneforge.tokenizer.CodePoints.escape;
import static io.aneforge.tokenizer.CodePoints.listed;
import static io.aneforge.tokenizer.CodePoints.ranges;
import static io.aneforge.tokenizer.CodePoints.rangesSource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.text.UnicodeSet;
import com.ibm.icu.util.ULocale;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link BertCharacters}: its tables are ICU4J 76's data (the {@code *Source} methods regenerate them; the
 * Unicode 17.0 case pairs, which ICU 76 does not know, and the two code points that were punctuation in 8.0 are pinned
 * here and confirmed by the native tokenizer), and the Java WordPiece tokenizer gives the native tokenizer's ids on
 * every code point with each BertNormalizer rule alone, with none (the pre-tokenizer alone) and with all, on random
 * strings mixing what the rules touch, and on all-MiniLM-L6-v2's tokenizer.json with emoji newer than Java 17.
 */
class BertCharactersTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * The case pairs of Unicode 17.0 (uppercase, lowercase), which Rust's {@code char::to_lowercase} knows and ICU4J 76
     * (Unicode 16.0) does not: the source of these lines of {@link BertCharacters#LOWERCASE_AFTER_UNICODE_13}, found
     * by probing the native tokenizer on every code point, which {@link #everyCodePointAsTheNativeTokenizer} repeats.
     */
    private static final int[] LOWERCASE_OF_UNICODE_17 = unicode17Lowercase();

    private static int[] unicode17Lowercase() {
        List<Integer> pairs = new ArrayList<>(List.of(0xA7CE, 0xA7CF, 0xA7D2, 0xA7D3, 0xA7D4, 0xA7D5));
        for (int c = 0x16EA0; c <= 0x16EB8; c++) { // Beria Erfe: 25 capitals, their small letters 0x1B further
            pairs.add(c);
            pairs.add(c + 0x1B);
        }
        return pairs.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * U+166D CANADIAN SYLLABICS CHI SIGN and U+111C9 SHARADA SANDHI MARK: punctuation (Po) in Unicode 8.0, a symbol and a
     * mark now, which the native tokenizer isolates ({@link #everyCodePointAsTheNativeTokenizer} pins them).
     */
    private static final int[] PUNCTUATION_IN_8_NOW_OTHER = {0x166D, 0x111C9};

    /** The BertNormalizer flags of one run: each rule alone, none (BertPreTokenizer alone), and all (BERT's). */
    record Rules(String name, boolean cleanText, boolean chineseChars, boolean stripAccents, boolean lowercase) {
    }

    static final List<Rules> RULES = List.of(new Rules("clean_text", true, false, false, false),
            new Rules("handle_chinese_chars", false, true, false, false),
            new Rules("strip_accents", false, false, true, false), new Rules("lowercase", false, false, false, true),
            new Rules("pre-tokenizer alone", false, false, false, false), new Rules("all", true, true, true, true));

    private static Rules rules(String name) {
        return RULES.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    // ---------------------------------------------------------------- the tables against their sources

    @Test
    void theControlTableIsUnicode8sControls() {
        UnicodeSet controls = new UnicodeSet("[[[[:Cc:][:Cf:][:Co:]]&[:age=8.0:]]-[\\u0000-\\u007F]]");
        assertThat(ranges(listed(BertCharacters.CONTROLS_OF_UNICODE_8)))
                .as("BertCharacters.CONTROLS_OF_UNICODE_8 should be:%n%s", rangesSource(controls))
                .isEqualTo(ranges(controls));
        // isControl is Unicode 8.0's Cc, Cf and Co (less tab, newline, carriage return), and a lone surrogate, on every
        // code point, ASCII's without the table
        UnicodeSet expected = new UnicodeSet("[[[:Cc:][:Cf:][:Co:]]&[:age=8.0:]]").removeAll(new UnicodeSet("[\\t\\n\\r]"))
                .add(Character.MIN_SURROGATE, Character.MAX_SURROGATE);
        assertThat(differences(expected, BertCharacters::isControl)).isEmpty();
    }

    @Test
    void thePunctuationTableIsUnicode8sAndTwoPinned() {
        UnicodeSet punctuation = new UnicodeSet("[[[:P:]&[:age=8.0:]]-[\\u0000-\\u007F]]");
        Arrays.stream(PUNCTUATION_IN_8_NOW_OTHER).forEach(punctuation::add);
        assertThat(ranges(listed(BertCharacters.PUNCTUATION_OF_UNICODE_8)))
                .as("BertCharacters.PUNCTUATION_OF_UNICODE_8 should be:%n%s", rangesSource(punctuation))
                .isEqualTo(ranges(punctuation));
        // the pinned two were assigned by 8.0, and are no punctuation to Java or ICU now: only the native tokenizer
        // (everyCodePointAsTheNativeTokenizer) tells that they were punctuation then
        UnicodeSet unicode8 = new UnicodeSet("[:age=8.0:]");
        UnicodeSet now = new UnicodeSet("[:P:]");
        for (int c : PUNCTUATION_IN_8_NOW_OTHER) {
            assertThat(unicode8.contains(c) && !now.contains(c) && !javaPunctuation(c)).as("U+%04X", c).isTrue();
        }
        UnicodeSet expected = new UnicodeSet(punctuation).add(33, 47).add(58, 64).add(91, 96).add(123, 126);
        assertThat(differences(expected, BertCharacters::isPunctuation)).isEmpty();
    }

    private static boolean javaPunctuation(int c) {
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION
                || t == Character.START_PUNCTUATION || t == Character.END_PUNCTUATION
                || t == Character.INITIAL_QUOTE_PUNCTUATION || t == Character.FINAL_QUOTE_PUNCTUATION
                || t == Character.OTHER_PUNCTUATION;
    }

    @Test
    void theLowercaseTableIsIcusCasePairsAfterJava17AndUnicode17s() {
        assertThat(lowercaseTable()).as("BertCharacters.LOWERCASE_AFTER_UNICODE_13 should be:%n%s", lowercaseSource())
                .isEqualTo(lowercaseAfterUnicode13());
        // ICU 76 does not know the pinned 17.0 code points (so it cannot be their source)
        UnicodeSet unassigned = new UnicodeSet("[:Cn:]");
        for (int i = 0; i < LOWERCASE_OF_UNICODE_17.length; i += 2) {
            assertThat(unassigned.contains(LOWERCASE_OF_UNICODE_17[i])).as("U+%04X", LOWERCASE_OF_UNICODE_17[i]).isTrue();
        }
        // on every code point: ICU's full lowercase (of Unicode 16.0; U+0130 its one lowercase of two code points),
        // the pinned pairs of 17.0, the code point itself elsewhere
        Map<Integer, Integer> unicode17 = new TreeMap<>();
        for (int i = 0; i < LOWERCASE_OF_UNICODE_17.length; i += 2) {
            unicode17.put(LOWERCASE_OF_UNICODE_17[i], LOWERCASE_OF_UNICODE_17[i + 1]);
        }
        List<String> wrong = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
                continue;
            }
            String s = new String(Character.toChars(c));
            String expected = unicode17.containsKey(c) ? new String(Character.toChars(unicode17.get(c)))
                    : UCharacter.toLowerCase(ULocale.ROOT, s);
            if (c != 0x0130) {
                assertThat(expected).as("U+%04X: full lowercase is the simple one", c)
                        .isEqualTo(new String(Character.toChars(unicode17.getOrDefault(c, UCharacter.toLowerCase(c)))));
            }
            out.setLength(0);
            BertCharacters.appendLowercase(out, c);
            if (!out.toString().equals(expected)) {
                wrong.add(String.format("U+%04X: %s, expected %s", c, escape(out.toString()), escape(expected)));
            }
        }
        assertThat(wrong).isEmpty();
        out.setLength(0);
        BertCharacters.appendLowercase(out, 0x0130);
        assertThat(out.toString()).isEqualTo("i\u0307");
    }

    /** The table as (uppercase, lowercase) pairs, checking its order. */
    private static Map<Integer, Integer> lowercaseTable() {
        int[] table = BertCharacters.LOWERCASE_AFTER_UNICODE_13;
        Map<Integer, Integer> out = new TreeMap<>();
        for (int i = 0; i < table.length; i += 2) {
            assertThat(i == 0 || table[i] > table[i - 2]).as("pair %d in order", i / 2).isTrue();
            out.put(table[i], table[i + 1]);
        }
        return out;
    }

    /**
     * The code points other than U+0130 that Java 17 does not lowercase as ICU 76 does (case pairs of 14.0-16.0), and
     * the pinned ones of 17.0.
     */
    private static Map<Integer, Integer> lowercaseAfterUnicode13() {
        Map<Integer, Integer> out = new TreeMap<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (c != 0x0130 && UCharacter.toLowerCase(c) != Character.toLowerCase(c)) {
                out.put(c, UCharacter.toLowerCase(c));
            }
        }
        for (int i = 0; i < LOWERCASE_OF_UNICODE_17.length; i += 2) {
            out.put(LOWERCASE_OF_UNICODE_17[i], LOWERCASE_OF_UNICODE_17[i + 1]);
        }
        return out;
    }

    /** The Java source of {@link BertCharacters#LOWERCASE_AFTER_UNICODE_13}: a line per run of one version. */
    static String lowercaseSource() {
        Set<Integer> unicode17 = new TreeSet<>();
        for (int i = 0; i < LOWERCASE_OF_UNICODE_17.length; i += 2) {
            unicode17.add(LOWERCASE_OF_UNICODE_17[i]);
        }
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder();
        String version = null;
        for (Map.Entry<Integer, Integer> pair : lowercaseAfterUnicode13().entrySet()) {
            String v = unicode17.contains(pair.getKey()) ? "17.0"
                    : UCharacter.getAge(pair.getKey()).getMajor() + "." + UCharacter.getAge(pair.getKey()).getMinor();
            String text = String.format("0x%04X, 0x%04X, ", pair.getKey(), pair.getValue());
            if (version != null && (!v.equals(version) || 12 + line.length() + text.length() + 7 > 120)) {
                out.append("            ").append(line).append("// ").append(version).append(System.lineSeparator());
                line.setLength(0);
            }
            version = v;
            line.append(text);
        }
        return out.append("            ").append(line).append("// ").append(version).append(System.lineSeparator())
                .toString();
    }

    @Test
    void chineseCharactersAreTheNativeRanges() {
        // U+2B820-U+2B91F (CJK Extension E) are not padded, as the native tokenizer's fifth range starts at U+2B920;
        // Extension G (U+30000) is outside every range
        int[] padded = {0x3400, 0x4DBF, 0x4E00, 0x9FFF, 0xF900, 0xFAFF, 0x20000, 0x2A6DF, 0x2A700, 0x2B73F, 0x2B740,
            0x2B81F, 0x2B920, 0x2CEAF, 0x2F800, 0x2FA1F};
        int[] not = {0x33FF, 0x4DC0, 0x4DFF, 0xA000, 0xF8FF, 0xFB00, 0x1FFFF, 0x2A6E0, 0x2A6FF, 0x2B820, 0x2B91F, 0x2CEB0,
            0x2F7FF, 0x2FA20, 0x30000, 'a'};
        Arrays.stream(padded).forEach(c -> assertThat(BertCharacters.isChinese(c)).as("U+%04X", c).isTrue());
        Arrays.stream(not).forEach(c -> assertThat(BertCharacters.isChinese(c)).as("U+%04X", c).isFalse());
    }

    // ---------------------------------------------------------------- what the tokenizer does with them

    /**
     * One code point of each kind the native tokenizer's rules and Java 17's disagree on, through the Java tokenizer
     * alone (so it runs where the native library does not load): each id list differs from what Java 17's categories
     * and case mappings gave.
     */
    @Test
    void theJavaTokenizerFollowsTheNativeRules(@TempDir Path dir) throws Exception {
        String melting = "\uD83E\uDEE0"; // U+1FAE0, Unicode 14.0: unassigned to Java 17
        String[] pieces = {"a", "##b", "b", "##" + melting, "##\u08E2", "##\u2E43", "\u166D", "\uD840\uDC00",
            "##\uD86E\uDC20", "##\uA7CF", "##i", "##\u0307", "##\uD801\uDD97"};
        Set<Integer> none = Set.of();
        Map<String, Integer> ids = new TreeMap<>();
        Path clean = write(dir, rules("clean_text"), none, pieces, ids);
        Path chinese = write(dir, rules("handle_chinese_chars"), none, pieces, ids);
        Path lower = write(dir, rules("lowercase"), none, pieces, ids);
        try (Tokenizer java = Tokenizer.loadPureJava(clean)) {
            // clean_text keeps a newer emoji and a format character of 9.0 (Java 17 dropped both: a ##b)
            assertThat(java.encode("a" + melting + "b", 8).tokens()).containsExactly(2, ids.get("a"),
                    ids.get("##" + melting), ids.get("##b"), 3);
            assertThat(java.encode("a\u08E2b", 8).tokens()).containsExactly(2, ids.get("a"), ids.get("##\u08E2"),
                    ids.get("##b"), 3);
            // U+2E43 (10.0) stays in its word, U+166D (So, punctuation in 8.0) is a word of its own
            assertThat(java.encode("a\u2E43b", 8).tokens()).containsExactly(2, ids.get("a"), ids.get("##\u2E43"),
                    ids.get("##b"), 3);
            assertThat(java.encode("a\u166Db", 8).tokens()).containsExactly(2, ids.get("a"), ids.get("\u166D"),
                    ids.get("b"), 3);
        }
        try (Tokenizer java = Tokenizer.loadPureJava(chinese)) {
            assertThat(java.encode("a\uD840\uDC00b", 8).tokens()).containsExactly(2, ids.get("a"),
                    ids.get("\uD840\uDC00"), ids.get("b"), 3);
            // U+2B820 is not padded, unlike U+20000
            assertThat(java.encode("a\uD86E\uDC20b", 8).tokens()).containsExactly(2, ids.get("a"),
                    ids.get("##\uD86E\uDC20"), ids.get("##b"), 3);
        }
        try (Tokenizer java = Tokenizer.loadPureJava(lower)) {
            assertThat(java.encode("a\uA7CEb", 8).tokens()).containsExactly(2, ids.get("a"), ids.get("##\uA7CF"),
                    ids.get("##b"), 3); // 17.0
            assertThat(java.encode("a\uD801\uDD70b", 8).tokens()).containsExactly(2, ids.get("a"),
                    ids.get("##\uD801\uDD97"), ids.get("##b"), 3); // U+10570, 14.0
            assertThat(java.encode("a\u0130b", 8).tokens()).containsExactly(2, ids.get("a"), ids.get("##i"),
                    ids.get("##\u0307"), ids.get("##b"), 3);
        }
    }

    /**
     * A string holding a lone surrogate (which no Rust string can hold; Python's tokenizers refuses such text): the Java
     * tokenizer takes the string as given, where DJL decodes the whole string lossily before the native tokenizer sees
     * it, each lone surrogate as three U+FFFD and each supplementary code point (a surrogate pair) as six. With
     * {@code clean_text}, which drops U+FFFD, the lone surrogate is gone in both but the emoji in the native one only;
     * without it, the native one has the U+FFFD pieces and the Java one an unknown word. The same text without the
     * lone surrogate gives the same ids in both.
     */
    @Test
    void aLoneSurrogateMakesDjlDecodeTheWholeStringLossily(@TempDir Path dir) throws Exception {
        String grin = "\uD83D\uDE00"; // U+1F600
        String text = "a\uD800b c" + grin + "d";
        String[] pieces = {"a", "c", "##b", "##d", "##" + grin, "##\uFFFD"};
        Map<String, Integer> ids = new TreeMap<>();
        Path clean = write(dir, rules("clean_text"), Set.of(), pieces, ids);
        Path plain = write(dir, rules("pre-tokenizer alone"), Set.of(), pieces, ids);
        int a = ids.get("a");
        int b = ids.get("##b");
        int c = ids.get("c");
        int d = ids.get("##d");
        int emoji = ids.get("##" + grin);
        int fffd = ids.get("##\uFFFD");
        try (Tokenizer java = Tokenizer.loadPureJava(clean)) {
            assertThat(java.encode(text, 64).tokens()).containsExactly(2, a, b, c, emoji, d, 3);
        }
        try (Tokenizer java = Tokenizer.loadPureJava(plain)) {
            assertThat(java.encode(text, 64).tokens()).containsExactly(2, 1, c, emoji, d, 3); // a<U+D800>b is [UNK]
        }
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        try (Tokenizer ref = NativeTokenizer.load(clean); Tokenizer java = Tokenizer.loadPureJava(clean)) {
            assertThat(ref.encode(text, 64).tokens()).containsExactly(2, a, b, c, d, 3);
            String valid = "ab c" + grin + "d";
            assertThat(ref.encode(valid, 64).tokens()).containsExactly(java.encode(valid, 64).tokens())
                    .containsExactly(2, a, b, c, emoji, d, 3);
        }
        try (Tokenizer ref = NativeTokenizer.load(plain)) {
            assertThat(ref.encode(text, 64).tokens()).containsExactly(2, a, fffd, fffd, fffd, b, c, fffd, fffd, fffd,
                    fffd, fffd, fffd, d, 3);
        }
    }

    /**
     * The native tokenizer and the Java one on {@code a}, each code point, {@code b} (every code point but the
     * surrogates, which a Rust string cannot hold), with each set of {@link #RULES}. Planes 0-2, 4 and 15 are probed
     * whole; plane 4 stands for the unassigned code points (planes 4-13 hold none assigned up to Unicode 17.0), so of
     * planes 3 and 5-14 only the first and last 256 code points and the 256-blocks where ICU (16.0) or Java assigns a
     * code point are probed, and plane 16, private use as plane 15 is, only its first and last 256. Each plane has its
     * own vocabulary (its files deleted once compared):
     * every code point of the plane and of the Java tokenizer's normalized probes a piece alone and after {@code ##},
     * so the ids tell a dropped code point (a ##b), a space (a b), a word of its own (a c b), one kept in the word
     * (a ##c ##b) and one changed (a ##d ##b) apart.
     */
    @Test
    void everyCodePointAsTheNativeTokenizer(@TempDir Path dir) throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        // planes 4-13 are unassigned to ICU (Unicode 16.0), to Java 17, and in Unicode 17.0 (whose new code points are
        // in planes 0-3), so plane 4 stands for every unassigned code point; plane 16 is private use as plane 15 is,
        // but for its last two code points, noncharacters as plane 15's
        UnicodeSet assigned = new UnicodeSet("[:^Cn:]").freeze();
        assertThat(assigned.containsNone(0x40000, 0xDFFFF)).isTrue();
        assertThat(new UnicodeSet("[:Co:]").containsAll(new UnicodeSet(0xF0000, 0xFFFFD).add(0x100000, 0x10FFFD)))
                .isTrue();
        for (int c = 0x40000; c <= Character.MAX_CODE_POINT; c++) {
            int type = c < 0xE0000 || (c & 0xFFFF) >= 0xFFFE ? Character.UNASSIGNED
                    : c >= 0xF0000 ? Character.PRIVATE_USE : Character.getType(c);
            assertThat(Character.getType(c)).as("U+%04X", c).isEqualTo(type);
        }
        Map<String, Integer> differing = new TreeMap<>();
        List<String> examples = new ArrayList<>();
        for (int plane = 0; plane <= Character.MAX_CODE_POINT >> 16; plane++) {
            List<String> probes = new ArrayList<>();
            Set<Integer> pieces = new TreeSet<>(List.of((int) 'a', (int) 'b'));
            for (int c = plane << 16; c <= (plane << 16 | 0xFFFF); c++) {
                int block = c & ~0xFF;
                boolean whole = plane <= 2 || plane == 4 || plane == 15;
                boolean edge = (c & 0xFFFF) < 0x100 || (c & 0xFFFF) >= 0xFF00;
                if (!whole && !edge && (plane == 16 || assigned.containsNone(block, block + 0xFF))) {
                    c = block + 0xFF; // the block's code points are plane 4's kind (or plane 15's)
                    continue;
                }
                if (c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE) {
                    probes.add("a" + new String(Character.toChars(c)) + "b");
                    pieces.add(c);
                }
            }
            for (Rules rules : RULES) {
                Path file = write(dir, rules, Set.of(), new String[0], new TreeMap<>());
                WordPieceTokenizer java = (WordPieceTokenizer) Tokenizer.loadPureJava(file);
                for (String probe : probes) {
                    java.normalize(probe).codePoints().forEach(pieces::add);
                }
                Files.delete(file);
            }
            for (Rules rules : RULES) {
                Path file = write(dir, rules, pieces, new String[0], new TreeMap<>());
                compare(file, rules, probes, differing, examples);
                Files.delete(file);
            }
        }
        assertThat(differing).as("probes that differ, by rules; among them:%n%s", String.join("\n", examples))
                .isEmpty();
    }

    /**
     * Random strings of 1-12 code points mixing what the rules touch (emoji of Unicode 6.0-16.0 with skin tones, ZWJ and
     * variation selectors; CJK of every range and beside them; combining marks; punctuation of 8.0 and later; controls
     * and format characters; whitespace; the case pairs; unassigned and private-use code points), with each set of
     * {@link #RULES}; every code point of the strings and of their normalized forms a piece.
     */
    @Test
    void randomStringsAsTheNativeTokenizer(@TempDir Path dir) throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        int[] pool = pool();
        Random random = new Random(13);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            StringBuilder text = new StringBuilder();
            for (int n = 1 + random.nextInt(12); n > 0; n--) {
                text.appendCodePoint(pool[random.nextInt(pool.length)]);
            }
            texts.add(text.toString());
        }
        Set<Integer> pieces = new TreeSet<>();
        Arrays.stream(pool).forEach(pieces::add);
        for (Rules rules : RULES) {
            WordPieceTokenizer java = (WordPieceTokenizer) Tokenizer.loadPureJava(write(dir, rules, Set.of(),
                    new String[0], new TreeMap<>()));
            texts.forEach(text -> java.normalize(text).codePoints().forEach(pieces::add));
        }
        Map<String, Integer> differing = new TreeMap<>();
        List<String> examples = new ArrayList<>();
        for (Rules rules : RULES) {
            compare(write(dir, rules, pieces, new String[0], new TreeMap<>()), rules, texts, differing, examples);
        }
        assertThat(differing).as("texts that differ, by rules; among them:%n%s", String.join("\n", examples))
                .isEmpty();
    }

    private static int[] pool() {
        Set<Integer> pool = new TreeSet<>();
        int[][] ranges = {
            {'A', 'C'}, {'a', 'c'}, {'!', '!'}, {'$', '$'}, {'-', '-'}, {'.', '.'}, {' ', ' '}, {'\t', '\n'}, {0, 0},
            {0x07, 0x07}, {0x0B, 0x0D}, {0x7F, 0x7F}, {0x85, 0x85}, {0xA0, 0xA0}, {0xAD, 0xAD}, {0xC9, 0xC9},
            {0x130, 0x131}, {0x3A3, 0x3A3}, {0x301, 0x301}, {0x308, 0x308}, {0x316, 0x316}, {0x378, 0x378},
            {0x08E2, 0x08E2}, {0x09FD, 0x09FD}, {0x0ECE, 0x0ECE}, {0x166D, 0x166D}, {0x1885, 0x1885},
            {0x1C89, 0x1C8A}, {0x1DF6, 0x1DF6}, {0x200B, 0x200D}, {0x2028, 0x2028}, {0x2C2F, 0x2C2F}, {0x2E43, 0x2E44},
            {0x2E52, 0x2E5D}, {0x3000, 0x3002}, {0x3400, 0x3400}, {0x4E00, 0x4E01}, {0x9FFF, 0x9FFF},
            {0xA7C0, 0xA7C1}, {0xA7CB, 0xA7DC}, {0xE000, 0xE000}, {0xF900, 0xF900}, {0xFE0F, 0xFE0F},
            {0xFEFF, 0xFEFF}, {0xFFFD, 0xFFFF}, {0x10570, 0x10572}, {0x10597, 0x10597}, {0x10D50, 0x10D51},
            {0x110CD, 0x110CD}, {0x111C9, 0x111C9}, {0x11660, 0x11661}, {0x13430, 0x13431}, {0x16EA0, 0x16EA1},
            {0x16EBB, 0x16EBB}, {0x1F3FD, 0x1F3FD}, {0x1F426, 0x1F426}, {0x1F525, 0x1F525}, {0x1F600, 0x1F600},
            {0x1F44D, 0x1F44D}, {0x1F6DD, 0x1F6DD}, {0x1F979, 0x1F979}, {0x1FA77, 0x1FA77}, {0x1FA89, 0x1FA89},
            {0x1FABF, 0x1FABF}, {0x1FAC6, 0x1FAC6}, {0x1FAE0, 0x1FAE0}, {0x1FAE8, 0x1FAE8}, {0x1FAF0, 0x1FAF2},
            {0x20000, 0x20000}, {0x2B81F, 0x2B820}, {0x2B91F, 0x2B920}, {0x2F800, 0x2F800}, {0x30000, 0x30000},
            {0x50000, 0x50000}, {0xE0001, 0xE0001}, {0xE0080, 0xE0080}, {0xF0000, 0xF0000},
        };
        for (int[] range : ranges) {
            for (int c = range[0]; c <= range[1]; c++) {
                pool.add(c);
            }
        }
        return pool.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * all-MiniLM-L6-v2's real tokenizer.json (bert-base-uncased's vocabulary, BERT's normalizer): text with emoji of
     * Unicode 14.0-16.0, alone, inside words and in ZWJ and skin-tone sequences. The vocabulary has none of them, so
     * each word holding one is {@code [UNK]} (100) in both, where Java 17's {@code clean_text} dropped them.
     */
    @Test
    void miniLmKeepsEmojiNewerThanJava17(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        Files.write(file, MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE));
        List<String> texts = List.of("so tired \uD83E\uDEE0 but happy \uD83E\uDD79", // U+1FAE0, U+1F979 (14.0)
                "new emoji: \uD83E\uDEE8 shaking face, \uD83E\uDE77 pink heart, \uD83E\uDEBF goose", // 15.0
                "fingerprint \uD83E\uDEC6 and harp \uD83E\uDE89!", // 16.0
                "fingers crossed\uD83E\uDEF0yes", // 14.0 inside a word
                "deal \uD83E\uDEF1\uD83C\uDFFD\u200D\uD83E\uDEF2\uD83C\uDFFF done", // handshake, skin tones (14.0)
                "phoenix \uD83D\uDC26\u200D\uD83D\uDD25 rises", // 15.1 sequence of old code points
                "\u2E52 \u0130stanbul \u08E2 \uD81B\uDEA0 \uA7CE", // 13.0 punctuation, İ, 9.0 format, 17.0 letters
                "Emoji test \uD83D\uDE00\uD83D\uDC4D\uD83C\uDFFD \uD83E\uDEE0\uD83E\uDEE0 end");
        try (Tokenizer java = Tokenizer.loadPureJava(file)) {
            int[] tired = java.encode("so tired", 16).tokens();
            int[] melting = java.encode("so tired \uD83E\uDEE0", 16).tokens();
            assertThat(melting).containsExactly(tired[0], tired[1], tired[2], 100, tired[3]);
            assertThat(java.encode("fingers crossed\uD83E\uDEF0yes", 16).tokens())
                    .containsExactly(java.encode("fingers [UNK]", 16).tokens());
        }
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
            for (String text : texts) {
                assertThat(java.encode(text, 64).tokens()).as(escape(text)).containsExactly(ref.encode(text, 64).tokens());
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Both tokenizers on {@code probes}, 256 to a text (words apart); the probes of a text that differs are encoded one
     * by one, and those that differ counted in {@code differing} under the rules' name, the first 20 of a call added to
     * {@code examples}.
     */
    private static void compare(Path file, Rules rules, List<String> probes, Map<String, Integer> differing,
            List<String> examples) throws Exception {
        int found = 0;
        try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
            for (int from = 0; from < probes.size(); from += 256) {
                List<String> batch = probes.subList(from, Math.min(probes.size(), from + 256));
                String text = String.join(" ", batch);
                if (Arrays.equals(java.encode(text, 4096).tokens(), ref.encode(text, 4096).tokens())) {
                    continue;
                }
                for (String probe : batch) {
                    int[] j = java.encode(probe, 64).tokens();
                    int[] n = ref.encode(probe, 64).tokens();
                    if (!Arrays.equals(j, n)) {
                        differing.merge(rules.name(), 1, Integer::sum);
                        if (found++ < 20) {
                            examples.add(rules.name() + " " + escape(probe) + ": java " + Arrays.toString(j)
                                    + ", native " + Arrays.toString(n));
                        }
                    }
                }
            }
        }
    }

    /**
     * The tiny BERT tokenizer.json with {@code rules}, each of {@code pieces} a piece alone and after {@code ##}, and
     * {@code extra} pieces, their ids put in {@code ids}.
     */
    private static Path write(Path dir, Rules rules, Set<Integer> pieces, String[] extra, Map<String, Integer> ids)
            throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        ((ObjectNode) root.path("normalizer")).put("clean_text", rules.cleanText())
                .put("handle_chinese_chars", rules.chineseChars()).put("strip_accents", rules.stripAccents())
                .put("lowercase", rules.lowercase());
        ObjectNode vocab = ((ObjectNode) root.path("model")).putObject("vocab");
        for (String special : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
            vocab.put(special, vocab.size());
        }
        for (int c : pieces) {
            String s = new String(Character.toChars(c));
            for (String piece : List.of(s, "##" + s)) {
                if (!vocab.has(piece)) {
                    vocab.put(piece, vocab.size());
                }
            }
        }
        for (String piece : extra) {
            if (!vocab.has(piece)) {
                vocab.put(piece, vocab.size());
            }
            ids.put(piece, vocab.path(piece).asInt());
        }
        Path file = Files.createTempFile(dir, "bert", ".json");
        Files.writeString(file, JSON.writeValueAsString(root));
        return file;
    }


    /** The code points where {@code rule} is not membership in {@code expected}. */
    private static List<String> differences(UnicodeSet expected, java.util.function.IntPredicate rule) {
        List<String> out = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (rule.test(c) != expected.contains(c) && out.size() < 100) {
                out.add(String.format("U+%04X", c));
            }
        }
        return out;
    }

}

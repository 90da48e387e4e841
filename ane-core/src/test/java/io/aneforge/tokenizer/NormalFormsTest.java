package io.aneforge.tokenizer;

import static io.aneforge.tokenizer.CodePoints.escape;
import static io.aneforge.tokenizer.CodePoints.ranges;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.text.FilteredNormalizer2;
import com.ibm.icu.text.Normalizer2;
import com.ibm.icu.text.UnicodeSet;
import com.ibm.icu.util.VersionInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link NormalForms}: its table is ICU4J 76's data (so it cannot drift; {@link #tableSource} regenerates it), its
 * results equal ICU's Unicode 9.0 normalization on every code point in the contexts that tell the versions apart and on
 * random strings, and the Java tokenizer normalizes as the native one with each form.
 */
class NormalFormsTest {
    private static final List<Normalizer.Form> FORMS = List.of(Normalizer.Form.NFC, Normalizer.Form.NFD,
            Normalizer.Form.NFKC, Normalizer.Form.NFKD);

    /** ICU4J 76's Unicode version, up to which the table lists the code points assigned after 9.0. */
    private static final String TABLE_UNICODE = "16.0";

    /** U+11935 and U+11930 (Dives Akuru, Unicode 13.0): Java 17 composes them to U+11938. */
    private static final String DIVES_AKURU_E = "\uD806\uDD35";
    private static final String DIVES_AKURU_AA = "\uD806\uDD30";

    /**
     * Where {@code %s} is a code point: alone; before a mark of class 220 (a class above it moves after the mark in
     * Unicode 13, not in 9.0, where the code point is a starter); after an acute, class 230 (a class below it moves
     * before); between e and an acute (a mark lets é compose in Unicode 13, a starter blocks it); before an acute (a
     * starter it composes with); after and before the Dives Akuru pair's other half.
     */
    static final List<String> CONTEXTS = List.of("%s", "a%s\u0316", "a\u0301%s", "e%s\u0301", "%s\u0301",
            DIVES_AKURU_E + "%s", "%s" + DIVES_AKURU_AA);

    private static final Map<Normalizer.Form, Normalizer2> ICU = Map.of(
            Normalizer.Form.NFC, Normalizer2.getNFCInstance(), Normalizer.Form.NFD, Normalizer2.getNFDInstance(),
            Normalizer.Form.NFKC, Normalizer2.getNFKCInstance(), Normalizer.Form.NFKD, Normalizer2.getNFKDInstance());

    /**
     * ICU's normalizer restricted to the code points of Unicode 9.0: Unicode 9.0's normal form (ICU's own way to an old
     * version, as its {@code Normalizer.UNICODE_3_2} is this filter over {@code [:age=3.2:]}). Later code points are
     * copied, and normalization stops at them, as at an unassigned code point.
     */
    private static final Map<Normalizer.Form, Normalizer2> UNICODE_9 = unicode9();

    private static Map<Normalizer.Form, Normalizer2> unicode9() {
        UnicodeSet assigned = new UnicodeSet("[:age=9.0:]").freeze();
        Map<Normalizer.Form, Normalizer2> out = new java.util.EnumMap<>(Normalizer.Form.class);
        ICU.forEach((form, icu) -> out.put(form, new FilteredNormalizer2(icu, assigned)));
        return out;
    }

    @Test
    void icuIsUnicode16AndTheJdkNoNewer() {
        assertThat(UCharacter.getUnicodeVersion().getMajor()).isEqualTo(16);
        // the table holds what 10.0-16.0 add to 9.0, so it serves a JDK of any Unicode version up to 16.0; a JDK that
        // assigns more (Unicode 17.0) may normalize code points it does not list
        UnicodeSet tableVersion = new UnicodeSet("[:age=" + TABLE_UNICODE + ":]");
        List<String> otherwise = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (Character.getType(c) != Character.UNASSIGNED && !tableVersion.contains(c) && otherwise.size() < 20) {
                otherwise.add(String.format("U+%04X", c));
            }
        }
        assertThat(otherwise).as("code points Java assigns that Unicode %s does not: NormalForms.AFTER_UNICODE_9"
                + " needs a newer ICU4J to list them (NormalFormsTest.tableSource)", TABLE_UNICODE).isEmpty();
    }

    @Test
    void theTableIsTheCodePointsOf10To16ThatAreNotInert() {
        UnicodeSet listed = new UnicodeSet();
        for (int r = 0; r < NormalForms.AFTER_UNICODE_9.length; r += 2) {
            assertThat(NormalForms.AFTER_UNICODE_9[r]).as("range %d in order", r / 2)
                    .isLessThanOrEqualTo(NormalForms.AFTER_UNICODE_9[r + 1]);
            if (r > 0) {
                assertThat(NormalForms.AFTER_UNICODE_9[r]).isGreaterThan(NormalForms.AFTER_UNICODE_9[r - 1]);
            }
            listed.add(NormalForms.AFTER_UNICODE_9[r], NormalForms.AFTER_UNICODE_9[r + 1]);
        }
        assertThat(ranges(listed)).as("NormalForms.AFTER_UNICODE_9 should be:%n%s", tableSource())
                .isEqualTo(ranges(notInert()));
        List<String> wrong = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (NormalForms.isAfterUnicode9(c) != listed.contains(c)) {
                wrong.add(String.format("U+%04X", c));
            }
        }
        assertThat(wrong).as("isAfterUnicode9 (blocks and binary search) against the table").isEmpty();
    }

    /** The code points assigned after 9.0 up to 16.0 that ICU does not call inert in all four forms. */
    private static UnicodeSet notInert() {
        UnicodeSet later = new UnicodeSet("[[:age=" + TABLE_UNICODE + ":]-[:age=9.0:]]");
        UnicodeSet out = new UnicodeSet();
        for (int r = 0; r < later.getRangeCount(); r++) {
            for (int c = later.getRangeStart(r); c <= later.getRangeEnd(r); c++) {
                for (Normalizer2 icu : ICU.values()) {
                    if (!icu.isInert(c)) {
                        out.add(c);
                    }
                }
            }
        }
        return out;
    }

    /**
     * The Java source of {@link NormalForms#AFTER_UNICODE_9} from ICU4J's data: a line per run of code points of one
     * version and one kind (the failure message of theTableIsTheCodePointsOf10To16ThatAreNotInert prints it).
     */
    static String tableSource() {
        UnicodeSet table = notInert();
        StringBuilder out = new StringBuilder();
        int first = -1;
        int last = -2;
        String kind = null;
        for (int c = 0; c <= Character.MAX_CODE_POINT + 1; c++) {
            String k = c <= Character.MAX_CODE_POINT && table.contains(c) ? kind(c) : null;
            if (k != null && k.equals(kind) && c == last + 1) {
                last = c;
                continue;
            }
            if (kind != null) {
                out.append(String.format("            0x%04X, 0x%04X, // %s%n", first, last, kind));
            }
            kind = k;
            first = c;
            last = c;
        }
        return out.toString();
    }

    private static String kind(int c) {
        VersionInfo age = UCharacter.getAge(c);
        String version = age.getMajor() + "." + age.getMinor() + ", ";
        int ccc = UCharacter.getCombiningClass(c);
        if (ccc != 0) {
            return version + "class " + ccc;
        } else if (Normalizer2.getNFDInstance().getDecomposition(c) != null) {
            return version + "canonical decomposition";
        } else if (Normalizer2.getNFKDInstance().getDecomposition(c) != null) {
            return version + "compatibility decomposition";
        }
        return version + (Normalizer2.getNFCInstance().hasBoundaryBefore(c) ? "composes with the character after it"
                : "composes with the character before it");
    }

    @Test
    void equalsUnicode9OnEveryCodePoint() {
        // planes 4-13 (unassigned) and 15-16 (private use and noncharacters) are inert in every form, as in Unicode 9.0:
        // a few code points a plane stand for the rest
        for (int c = 0x40000; c <= Character.MAX_CODE_POINT; c++) {
            if (sampledPlane(c)) {
                for (Normalizer2 icu : ICU.values()) {
                    assertThat(icu.isInert(c)).as("U+%04X inert", c).isTrue();
                }
            }
        }
        List<String> wrong = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE
                    || sampledPlane(c) && !Set.of(0x0000, 0x8000, 0xFFFD, 0xFFFF).contains(c & 0xFFFF)) {
                continue;
            }
            String s = new String(Character.toChars(c));
            for (String context : CONTEXTS) {
                String text = String.format(context, s);
                for (Normalizer.Form form : FORMS) {
                    String expected = UNICODE_9.get(form).normalize(text);
                    if (!NormalForms.normalize(text, form).equals(expected) && wrong.size() < 50) {
                        wrong.add(form + " " + escape(text) + ": " + escape(NormalForms.normalize(text, form))
                                + ", Unicode 9.0: " + escape(expected));
                    }
                }
            }
        }
        assertThat(wrong).isEmpty();
    }

    private static boolean sampledPlane(int c) {
        int plane = c >> 16;
        return plane >= 4 && plane <= 13 || plane >= 15;
    }

    @Test
    void equalsUnicode9OnRandomStrings() {
        Random random = new Random(16);
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < 30_000; i++) {
            String text = randomText(random, true);
            for (Normalizer.Form form : FORMS) {
                String expected = UNICODE_9.get(form).normalize(text);
                if (!NormalForms.normalize(text, form).equals(expected) && wrong.size() < 50) {
                    wrong.add(form + " " + escape(text) + ": " + escape(NormalForms.normalize(text, form))
                            + ", Unicode 9.0: " + escape(expected));
                }
            }
        }
        assertThat(wrong).isEmpty();
    }

    /**
     * Code points that normalization moves, joins, splits or blocks on: the table's, marks of many classes (Latin,
     * Hebrew, Thai, Devanagari, Tibetan's multi-part vowels), starters that compose with a starter (Oriya, Balinese,
     * Kaithi), Hangul jamo and syllables, compatibility characters, singletons, a composition exclusion, code points of
     * Unicode 14.0-16.0 with a decomposition or a class (unassigned to 9.0: they stay), and a few letters.
     */
    private static final int[] POOL = pool();

    private static int[] pool() {
        Set<Integer> pool = new LinkedHashSet<>();
        for (int r = 0; r < NormalForms.AFTER_UNICODE_9.length; r += 2) {
            for (int c = NormalForms.AFTER_UNICODE_9[r]; c <= NormalForms.AFTER_UNICODE_9[r + 1]; c++) {
                pool.add(c);
            }
        }
        for (int c : new int[] {'a', 'e', 'A', 'o', 0x0300, 0x0301, 0x0308, 0x0316, 0x0323, 0x0327, 0x0340, 0x0344,
            0x0345, 0x05B0, 0x05B8, 0x05BC, 0x05C1, 0x0E38, 0x0E48, 0x0915, 0x093C, 0x094D, 0x0958, 0x0F71, 0x0F72,
            0x0F73, 0x0F80, 0x0F81, 0x0B47, 0x0B3E, 0x0B57, 0x1B05, 0x1B35, 0x11099, 0x110BA, 0x1100, 0x1161, 0x11A8,
            0xAC00, 0xAC01, 0xFB01, 0x2460, 0xFF21, 0x3300, 0x00A8, 0x00BD, 0x1E9B, 0x212B, 0x2126, 0x1D15E, 0x1D165,
            0x00C5, 0x1E0B, 0x1E69, 0xA7F2, 0x1CCD6, 0x105C9, 0x105D2, 0x0307, 0x11383, 0x11382, 0x113C9, 0x0897,
            0x1DFA, 0x16D68, 0x16D67}) {
            pool.add(c);
        }
        return pool.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * One to eight code points, from {@link #POOL}, or with {@code anywhere} one in eight anywhere in planes 0-2 (no
     * surrogate).
     */
    static String randomText(Random random, boolean anywhere) {
        StringBuilder text = new StringBuilder();
        for (int n = 1 + random.nextInt(8); n > 0; n--) {
            int c;
            if (anywhere && random.nextInt(8) == 0) {
                do {
                    c = random.nextInt(0x30000);
                } while (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE);
            } else {
                c = POOL[random.nextInt(POOL.length)];
            }
            text.appendCodePoint(c);
        }
        return text.toString();
    }

    @Test
    void leavesWhatUnicode9DidNotAssignAsItIs() {
        // compatibility characters of 12.0-13.0: Java 17 alone decomposes them
        assertThat(NormalForms.normalize("\uD83E\uDFF0", Normalizer.Form.NFKC)).isEqualTo("\uD83E\uDFF0"); // U+1FBF0
        assertThat(Normalizer.normalize("\uD83E\uDFF0", Normalizer.Form.NFKC)).isEqualTo("0");
        assertThat(NormalForms.normalize("\u32FF", Normalizer.Form.NFKD)).isEqualTo("\u32FF");
        // a mark of 10.0 (class 232) is a starter: no reordering past it, and it blocks é
        assertThat(NormalForms.normalize("a\u1DF6\u0316", Normalizer.Form.NFD)).isEqualTo("a\u1DF6\u0316");
        assertThat(Normalizer.normalize("a\u1DF6\u0316", Normalizer.Form.NFD)).isEqualTo("a\u0316\u1DF6");
        assertThat(NormalForms.normalize("e\u1DF9\u0301", Normalizer.Form.NFC)).isEqualTo("e\u1DF9\u0301");
        assertThat(Normalizer.normalize("e\u1DF9\u0301", Normalizer.Form.NFC)).isEqualTo("\u00E9\u1DF9");
        // the marks around it still normalize: é composes before it, the marks after it reorder among themselves
        assertThat(NormalForms.normalize("e\u0301\u1DF6\u0301\u0316", Normalizer.Form.NFC))
                .isEqualTo("\u00E9\u1DF6\u0316\u0301");
        // the Dives Akuru pair does not compose, its composite does not decompose
        assertThat(NormalForms.normalize(DIVES_AKURU_E + DIVES_AKURU_AA, Normalizer.Form.NFC))
                .isEqualTo(DIVES_AKURU_E + DIVES_AKURU_AA);
        assertThat(NormalForms.normalize("\uD806\uDD38", Normalizer.Form.NFD)).isEqualTo("\uD806\uDD38");
        // what Unicode 9.0 knows is Java's: Ǻ, the ﬁ ligature, Hangul
        assertThat(NormalForms.normalize("A\u030A\u0301 \uFB01 \u1100\u1161\u11A8", Normalizer.Form.NFKC))
                .isEqualTo("\u01FA fi \uAC01");
        // 14.0-16.0 are unassigned to Unicode 9.0 as to Java 17: U+A7F2 (compatibility), U+105C9 (canonical) stay
        assertThat(NormalForms.normalize("\uA7F2\uD801\uDDC9", Normalizer.Form.NFKD)).isEqualTo("\uA7F2\uD801\uDDC9");
        assertThat(NormalForms.normalize("", Normalizer.Form.NFC)).isEmpty();
        // a lone surrogate passes through, beside a table code point too
        assertThat(NormalForms.normalize("\uD800\u1DF6\uDC00e\u0301", Normalizer.Form.NFC))
                .isEqualTo("\uD800\u1DF6\uDC00\u00E9");
    }

    /**
     * The native tokenizer and the Java one with each of the four normalizers, on every table code point in the
     * contexts of {@link #CONTEXTS} and on random strings. The vocabulary is the 256 byte pieces (byte fallback), so
     * the ids spell the normalized text's UTF-8 bytes: any difference in normalization is a difference in ids.
     */
    @Test
    void normalizesAsTheNativeTokenizer(@TempDir Path dir) throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        List<String> texts = new ArrayList<>();
        Set<Integer> probedUnlikeJava17 = new LinkedHashSet<>();
        for (int r = 0; r < NormalForms.AFTER_UNICODE_9.length; r += 2) {
            for (int c = NormalForms.AFTER_UNICODE_9[r]; c <= NormalForms.AFTER_UNICODE_9[r + 1]; c++) {
                for (String context : CONTEXTS) {
                    String text = String.format(context, new String(Character.toChars(c)));
                    texts.add(text);
                    for (Normalizer.Form form : FORMS) {
                        if (!Normalizer.normalize(text, form).equals(NormalForms.normalize(text, form))) {
                            probedUnlikeJava17.add(c);
                        }
                    }
                }
            }
        }
        // every table code point the JDK knows (those of 10.0-13.0 on Java 17) has a probe where Java's Normalizer alone
        // would give other ids; the others are inert to it
        UnicodeSet javaKnows = new UnicodeSet();
        UnicodeSet table = notInert();
        for (int r = 0; r < table.getRangeCount(); r++) {
            for (int c = table.getRangeStart(r); c <= table.getRangeEnd(r); c++) {
                if (Character.getType(c) != Character.UNASSIGNED) {
                    javaKnows.add(c);
                }
            }
        }
        assertThat(probedUnlikeJava17).hasSize(javaKnows.size());
        Random random = new Random(9);
        for (int i = 0; i < 3_000; i++) {
            texts.add(randomText(random, true));
        }
        for (Normalizer.Form form : FORMS) {
            Path file = dir.resolve(form + ".json");
            Files.writeString(file, SentencePieceFixture.xlmRobertaJson(root -> {
                root.putObject("normalizer").put("type", form.name());
                ObjectNode model = (ObjectNode) root.path("model");
                model.put("byte_fallback", true);
                ArrayNode vocab = model.putArray("vocab");
                for (String special : List.of("<s>", "<pad>", "</s>", "<unk>")) {
                    vocab.addArray().add(special).add(0.0);
                }
                vocab.addArray().add("\u2581").add(-1.0);
                for (int b = 0; b < 256; b++) {
                    vocab.addArray().add(String.format("<0x%02X>", b)).add(-1.0);
                }
                vocab.addArray().add("<mask>").add(0.0);
                ((ObjectNode) root.path("added_tokens").get(4)).put("id", vocab.size() - 1);
            }));
            try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
                for (String text : texts) {
                    assertThat(java.encode(text, 512).ids()).as("%s %s", form, escape(text))
                            .isEqualTo(ref.encode(text, 512).ids());
                }
            }
        }
    }
}

package io.aneforge.tokenizer;

import static io.aneforge.tokenizer.SentencePieceFixture.BOS;
import static io.aneforge.tokenizer.SentencePieceFixture.EOS;
import static io.aneforge.tokenizer.SentencePieceFixture.PAD;
import static io.aneforge.tokenizer.SentencePieceFixture.UNK;
import static io.aneforge.tokenizer.SentencePieceFixture.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * The pure-Java SentencePiece Unigram tokenizer: the ids of Hugging Face's tokenizers (the native one, through DJL) on
 * XLM-RoBERTa's form of tokenizer.json with a {@code Precompiled} charsmap ({@link SentencePieceFixture}), for one text
 * and pairs, untruncated and truncated, and on the variants other SentencePiece files use (the legacy Metaspace form,
 * {@code RobertaProcessing}, {@code prepend_scheme} first and never, unsplit words, {@code WhitespaceSplit}, byte
 * fallback, other normalizers). Where the native library does not load those comparisons are skipped; the expectations
 * derived by hand from the algorithm still run.
 */
class UnigramTokenizerTest {
    /** Accents (composed, decomposed), CJK, emoji, runs of spaces, full-width characters, added tokens, the empty text. */
    static final List<String> TEXTS = List.of(
            "hello world",
            "Hello, World! yellow fellow",
            "hello   world  and   the   spaces",
            "  leading and trailing  ",
            "caf\u00E9 and cafe\u0301, Cafe\u0301 r\u00E9sum\u00E9 na\u00EFve \u212Bngstr\u00F6m",
            "\uFF28\uFF45\uFF4C\uFF4C\uFF4F\u3000\uFF57\uFF4F\uFF52\uFF4C\uFF44\uFF01 \uFF21\u0301\uFF22\u0301\u0301 \uFF11\uFF12",
            "\uFB01ne \u2122 \u2460\u2461 \uFB01",
            "\u5317\u4EAC\u662F\u4E2D\u56FD\u7684\u9996\u90FD\u3002\u6771\u4EAC\u306F\u65E5\u672C\u306E\u9996\u90FD\u3067\u3059\u3002"
                    + " \uC11C\uC6B8\uC740 \u1100\u1161 \uAC00",
            "Emoji \uD83D\uDE00\uD83D\uDC4D\uD83C\uDFFD family \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 flags"
                    + " \uD83C\uDDEB\uD83C\uDDF7 heart \u2764\uFE0F \uD83E\uDD16robots\uD83E\uDD16",
            "tabs\tand\nnew\r\nlines\u00A0nbsp",
            "zero\u200Bwidth\uFEFFchars \u200B",
            "a".repeat(41) + " " + "aaaa".repeat(9) + "b",
            "Special <mask> tokens</s>inside <s>text and <unk> <pad>end",
            "<s>starts with a special",
            "   <mask>",
            "",
            " ",
            "\u2581already \u2581\u2581metaspace\u2581",
            "Numbers 3.14159, 1,000,000 and 2nd-3rd (ok?)",
            // <mask> strips Unicode White_Space before it (NBSP, U+2007, U+202F), not U+001C-U+001F
            "x\u00A0<mask> y",
            "x\u2007<mask>\u202F<mask>\u001F<mask> \u001C");

    @TempDir
    Path dir;

    private Path write(String name, String json) throws Exception {
        return Files.writeString(dir.resolve(name), json);
    }

    private Path xlmr() throws Exception {
        return write("tokenizer.json", SentencePieceFixture.xlmRobertaJson(root -> { }));
    }

    private static int[] ids(Tokenizer t, String text) {
        return t.encode(text, 512).tokens();
    }

    @Test
    void loadsAsTheJavaUnigramTokenizer() throws Exception {
        try (Tokenizer t = Tokenizer.loadPureJava(xlmr())) {
            assertThat(t.implementation()).isEqualTo("java Unigram");
            assertThat(t.maxTokenId()).isEqualTo(SentencePieceFixture.vocabulary().size() - 1); // <mask>
        }
    }

    /** Expectations derived from the algorithm by hand: they run without the native library. */
    @Test
    void segmentsAsTheAlgorithmSays() throws Exception {
        try (Tokenizer t = Tokenizer.loadPureJava(xlmr())) {
            int hello = id("\u2581hello");
            int world = id("\u2581world");
            // ▁hello (-6) beats ▁he + llo (-10) and the letters; each word starts with ▁
            assertThat(t.encode("hello world", 6).ids()).containsExactly(BOS, hello, world, EOS, PAD, PAD);
            assertThat(t.encode("hello world", 6).attentionMask()).containsExactly(1, 1, 1, 1, 0, 0);
            // runs of spaces are one (Replace " {2,}"); a space at the end is a word of its own (▁)
            assertThat(ids(t, "hello    world")).containsExactly(BOS, hello, world, EOS);
            assertThat(ids(t, "hello ")).containsExactly(BOS, hello, id("\u2581"), EOS);
            // a tie (▁ye + llow = ▁yel + low = -10): the path whose last piece starts earliest wins (first
            // found, strict >)
            assertThat(ids(t, "yellow")).containsExactly(BOS, id("\u2581ye"), id("llow"), EOS);
            // the charsmap: full-width to ASCII, a decomposed é composed, ﬁ expanded, zero-width removed
            assertThat(ids(t, "\uFF48\uFF45\uFF4C\uFF4C\uFF4F")).containsExactly(BOS, hello, EOS);
            assertThat(ids(t, "cafe\u0301")).containsExactly(BOS, id("\u2581caf\u00E9"), EOS);
            assertThat(ids(t, "\uFB01")).containsExactly(BOS, id("\u2581fi"), EOS);
            assertThat(ids(t, "hel\u200Blo")).containsExactly(BOS, hello, EOS);
            // Ａ + acute is one 5-byte cluster whose shortest key is Ａ: "A", the accent gone (not the table's Á)
            assertThat(ids(t, "\uFF21\u0301")).containsExactly(BOS, id("\u2581"), id("A"), EOS);
            // ᄀ + ᅡ is a 6-byte cluster: looked up character by character, neither a key, both unknown, fused
            assertThat(ids(t, "\u1100\u1161")).containsExactly(BOS, id("\u2581"), UNK, EOS);
            // 😀 is a piece; 👍🏽 (two characters without a piece) is one unknown
            assertThat(ids(t, "\uD83D\uDE00\uD83D\uDC4D\uD83C\uDFFD")).containsExactly(BOS, id("\u2581"),
                    id("\uD83D\uDE00"), UNK, EOS);
            // added tokens are their ids; the text after one gets its own ▁ (prepend_scheme always)
            assertThat(ids(t, "hello<mask>world")).containsExactly(BOS, hello, id("<mask>"), world, EOS);
            assertThat(ids(t, "")).containsExactly(BOS, EOS);
            // truncation keeps <s> ... </s>; a pair is <s> A </s></s> B </s>, all segment 0
            assertThat(t.encode("hello world hello", 3).ids()).containsExactly(BOS, hello, EOS);
            Encoding pair = t.encodePair("hello", "world", 8);
            assertThat(pair.ids()).containsExactly(BOS, hello, EOS, EOS, world, EOS, PAD, PAD);
            assertThat(pair.typeIds()).containsExactly(0, 0, 0, 0, 0, 0, 0, 0);
        }
    }

    /**
     * An unknown character's candidate ties a piece ending with it (▁ + q (+10) + unknown ö (-8 - 10) = ▁ + qö (-8) =
     * -10): the piece, found first (it starts earlier), stays.
     */
    @Test
    void aTieWithTheUnknownCandidateKeepsThePieceFoundFirst() throws Exception {
        Path file = variant("unknown-tie.json", root -> {
            var vocab = ((ObjectNode) root.path("model")).withArray("vocab");
            vocab.addArray().add("q").add(10.0);
            vocab.addArray().add("q\u00F6").add(-8.0);
        });
        int qo = SentencePieceFixture.vocabulary().size() + 1;
        try (Tokenizer java = Tokenizer.loadPureJava(file)) {
            assertThat(ids(java, "q\u00F6")).containsExactly(BOS, id("\u2581"), qo, EOS);
            if (NativeTokenizer.isAvailable()) {
                try (Tokenizer ref = NativeTokenizer.load(file)) {
                    assertThat(ids(ref, "q\u00F6")).containsExactly(ids(java, "q\u00F6"));
                }
            }
        }
    }

    /**
     * A 100,000-character word and a 10,000-character piece sharing its first characters: each position's candidates
     * stop at the first character no piece continues, so this takes a moment, not hours (a complexity check, not a
     * speed one: the limit is generous).
     */
    @Test
    void aLongWordWithALongPieceIsSegmentedInLinearTime() throws Exception {
        Path file = variant("long-piece.json", root -> ((ObjectNode) root.path("model")).withArray("vocab")
                .addArray().add("aaa" + "b".repeat(10_000)).add(-1.0));
        String word = "a".repeat(100_000);
        try (Tokenizer java = Tokenizer.loadPureJava(file)) {
            int[] tokens = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> java.encode(word, 30_000).tokens());
            // ▁ (-2) + 25,000 aaaa (-8 each) beats ▁a (-4.2) + 24,999 aaaa + aa + a
            assertThat(tokens).hasSize(25_003);
            assertThat(tokens[1]).isEqualTo(id("\u2581"));
            assertThat(Arrays.stream(tokens, 2, tokens.length - 1).distinct().toArray()).containsExactly(id("aaaa"));
            // the long piece is still found where the text holds it
            String hit = "aaa" + "b".repeat(10_000);
            assertThat(ids(java, "x" + hit)).containsExactly(BOS, id("\u2581"), id("x"),
                    SentencePieceFixture.vocabulary().size(), EOS);
        }
    }

    @Test
    void theNativeTokenizerReadsTheFixture() throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        try (Tokenizer ref = NativeTokenizer.load(xlmr())) {
            // the charsmap written by the fixture is read by spm_precompiled as by the Java tokenizer
            assertThat(ids(ref, "\uFF48\uFF45\uFF4C\uFF4C\uFF4F")).containsExactly(BOS, id("\u2581hello"), EOS);
            assertThat(ids(ref, "\uFF21\u0301")).containsExactly(BOS, id("\u2581"), id("A"), EOS);
        }
    }

    /** XLM-RoBERTa's form: identical ids, type ids and masks for every text and every ordered pair, cut or not. */
    @Test
    void equalsTheNativeTokenizerOnXlmRobertasForm() throws Exception {
        compareWithNative(xlmr());
    }

    /**
     * Files written before tokenizers 0.19: Metaspace's {@code add_prefix_space} (and {@code str_rep}) in place of
     * {@code prepend_scheme}; the normalizer a bare Precompiled; {@code RobertaProcessing} as the post-processor; and a
     * file truncating only the second text, from the left.
     */
    @Test
    void equalsTheNativeTokenizerOnTheLegacyForm() throws Exception {
        compareWithNative(variant("legacy.json", root -> {
            ObjectNode precompiled = (ObjectNode) root.path("normalizer").path("normalizers").get(0);
            root.set("normalizer", precompiled);
            root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581")
                    .put("str_rep", "\u2581").put("add_prefix_space", true);
            root.putObject("post_processor").put("type", "RobertaProcessing").put("trim_offsets", true)
                    .put("add_prefix_space", true).<ObjectNode>set("sep", root.arrayNode().add("</s>").add(EOS))
                    .set("cls", root.arrayNode().add("<s>").add(BOS));
            root.putObject("truncation").put("direction", "Left").put("max_length", 512).put("strategy", "OnlySecond")
                    .put("stride", 0);
        }), true);
    }

    /** {@code prepend_scheme} first with unsplit words (T5's newer form), byte fallback, other normalizers. */
    @Test
    void equalsTheNativeTokenizerWithPrependFirstUnsplitAndByteFallback() throws Exception {
        compareWithNative(variant("first.json", root -> {
            ObjectNode normalizer = root.putObject("normalizer").put("type", "Sequence");
            var steps = normalizer.putArray("normalizers");
            steps.addObject().put("type", "Strip").put("strip_left", false).put("strip_right", true);
            steps.addObject().put("type", "NFKC");
            steps.addObject().put("type", "Replace").put("content", "\"").putObject("pattern").put("String", "``");
            steps.addObject().put("type", "Lowercase");
            root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581")
                    .put("prepend_scheme", "first").put("split", false);
            ObjectNode model = (ObjectNode) root.path("model");
            model.put("byte_fallback", true);
            var vocab = model.withArray("vocab");
            for (String b : List.of("<0xF0>", "<0x9F>", "<0x91>", "<0x8D>", "<0xE2>", "<0x80>", "<0x8B>")) {
                vocab.addArray().add(b).add(-9.0); // 👍 and the zero-width space fall back to bytes; 👍🏽 cannot
            }
        }), false);
    }

    /** {@code prepend_scheme} never after a {@code WhitespaceSplit}, a Prepend normalizer, no unk fusion across words. */
    @Test
    void equalsTheNativeTokenizerWithWhitespaceSplitAndNever() throws Exception {
        compareWithNative(variant("never.json", root -> {
            ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
            var steps = pre.putArray("pretokenizers");
            steps.addObject().put("type", "WhitespaceSplit");
            steps.addObject().put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "never")
                    .put("split", true);
            ObjectNode normalizer = (ObjectNode) root.path("normalizer");
            normalizer.withArray("normalizers").addObject().put("type", "Prepend").put("prepend", "\u2581");
        }), false);
    }

    @Test
    void theLegacyFormWithoutAPrefixSpaceIsRefusedAsTheNativeOneRefusesIt() throws Exception {
        Path file = variant("no-prefix.json", root -> root.putObject("pre_tokenizer").put("type", "Metaspace")
                .put("replacement", "\u2581").put("add_prefix_space", false));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(file)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("add_prefix_space false with prepend_scheme always (always when absent)")
                .hasMessageContaining("set prepend_scheme 'never'");
        Path fixed = variant("never-prefix.json", root -> root.putObject("pre_tokenizer").put("type", "Metaspace")
                .put("replacement", "\u2581").put("add_prefix_space", false).put("prepend_scheme", "never"));
        try (Tokenizer t = Tokenizer.loadPureJava(fixed)) {
            // no ▁ before the first word: h e llo (-13) beats the letters (-20) and h e l lo (-17)
            assertThat(ids(t, "hello world")).containsExactly(BOS, id("h"), id("e"), id("llo"), id("\u2581world"), EOS);
        }
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        assertThatThrownBy(() -> NativeTokenizer.load(file)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("add_prefix_space does not match declared prepend_scheme");
        try (Tokenizer ref = NativeTokenizer.load(fixed); Tokenizer java = Tokenizer.loadPureJava(fixed)) {
            for (String text : TEXTS) {
                assertThat(ids(java, text)).as(text).containsExactly(ids(ref, text));
            }
        }
    }

    @Test
    void whatTheJavaTokenizerDoesNotImplementIsRefusedNamingTheNativeOne() throws Exception {
        Path bert = variant("bert-normalizer.json", root -> root.putObject("normalizer").put("type", "BertNormalizer"));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(bert)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("normalizer 'BertNormalizer' is not supported by the Java Unigram tokenizer")
                .hasMessageContaining("-Daneforge.tokenizer=native");
        Path digits = variant("digits.json", root -> root.putObject("pre_tokenizer").put("type", "Digits"));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(digits)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("pre_tokenizer 'Digits' is not supported by the Java Unigram tokenizer");
        Path broken = variant("broken.json", root -> ((ObjectNode) root.path("normalizer").path("normalizers").get(0))
                .put("precompiled_charsmap", "AAAAAA=="));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(broken)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("precompiled_charsmap declares a trie of 0 bytes");
        Path pairs = variant("bad-vocab.json", root -> ((ObjectNode) root.path("model")).withArray("vocab")
                .addArray().add("x"));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(pairs)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("is not a [piece, score] pair");
        Path fallback = variant("fallback.json", root -> ((ObjectNode) root.path("model")).put("byte_fallback", "yes"));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(fallback)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("model byte_fallback \"yes\" is not true or false");
        Path huge = variant("huge-score.json", root -> ((ObjectNode) root.path("model")).withArray("vocab")
                .addArray().add("zz").add(new java.math.BigDecimal("1e400")));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(huge)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("out of a double's range");
        Path wordLevel = variant("word-level.json", root -> ((ObjectNode) root.path("model")).put("type", "WordLevel"));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(wordLevel)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("tokenizer model 'WordLevel' is not supported by the Java tokenizer, which"
                        + " implements WordPiece, byte-level BPE and SentencePiece Unigram");
    }

    /**
     * A Replace regex means what Oniguruma (Ruby syntax) makes of it: {@code ^}/{@code $} at every line, Unicode
     * {@code \s \d}, case-insensitive matching of non-ASCII letters; the normalizer is the Replace alone, so the
     * newlines reach the model (as unknown characters).
     */
    @Test
    void aReplaceRegexMatchesAsOnigurumaMatchesIt() throws Exception {
        List<String> texts = List.of("hello\n  world  \nand  \n  the", "a\u00A0\u2003b\u3000c", "\u0663 3 \u00B3 x",
                "h\u00E9llo \u00C9COLE \u00E9cole", "one\ntwo\r\nthree\u2028four\u0085five", "word_1 caf\u00E9");
        for (String regex : List.of("^ +", " +$", "^", "$", "\\s+", "\\d", "(?i)\u00E9", ".+",
                "[a-z]+$")) {
            Path file = variant("regex.json", root -> root.putObject("normalizer").put("type", "Replace")
                    .put("content", "Z").putObject("pattern").put("Regex", regex));
            try (Tokenizer java = Tokenizer.loadPureJava(file)) {
                if (regex.equals("^ +")) {
                    // the second line's leading spaces are at a line start: "a\nZworld", one word (\n unknown)
                    assertThat(ids(java, "a\n  world")).containsExactly(BOS, id("\u2581a"), UNK, id("Z"), id("w"),
                            id("o"), id("r"), id("l"), id("d"), EOS);
                }
                if (!NativeTokenizer.isAvailable()) {
                    continue;
                }
                try (Tokenizer ref = NativeTokenizer.load(file)) {
                    for (String text : texts) {
                        assertThat(ids(java, text)).as("%s on '%s'", regex, text).containsExactly(ids(ref, text));
                    }
                }
            }
        }
    }

    @Test
    void aReplaceRegexOnigurumaReadsDifferentlyIsRefused() throws Exception {
        for (String regex : List.of("\\h+", "[\\H]", "\\v", "\\w+", "\\bx", "\\Q.\\E", "(?m).", "(?s).",
                "[[:alpha:]]")) {
            Path file = variant("onig.json", root -> root.putObject("normalizer").put("type", "Replace")
                    .put("content", "Z").putObject("pattern").put("Regex", regex));
            assertThatThrownBy(() -> Tokenizer.loadPureJava(file)).as(regex).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining("which Oniguruma (Hugging Face's regex engine) reads differently from Java")
                    .hasMessageContaining("-Daneforge.tokenizer=native");
        }
        // an escaped backslash before h is a literal backslash and h
        assertThat(TextNormalizer.onigurumaOnly("\\\\h (?i:x) (?<name>y) (?=z)")).isNull();
    }

    @Test
    void addedTokensTheJavaTokenizerWouldMatchWronglyAreRefused() throws Exception {
        Path singleWord = variant("single-word.json", root -> ((ObjectNode) root.path("added_tokens").get(4))
                .put("single_word", true));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(singleWord)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("added token '<mask>' is single_word")
                .hasMessageContaining("-Daneforge.tokenizer=native");
        Path normalized = variant("normalized.json", root -> ((ObjectNode) root.path("added_tokens").get(4))
                .put("normalized", true));
        assertThatThrownBy(() -> Tokenizer.loadPureJava(normalized)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("added token '<mask>' is normalized")
                .hasMessageContaining("-Daneforge.tokenizer=native");
        // without a normalizer the raw text is the normalized text: the same matches
        Path plain = variant("normalized-plain.json", root -> {
            ((ObjectNode) root.path("added_tokens").get(4)).put("normalized", true);
            root.putNull("normalizer");
        });
        try (Tokenizer java = Tokenizer.loadPureJava(plain)) {
            assertThat(ids(java, "hello<mask>")).containsExactly(BOS, id("\u2581hello"), id("<mask>"), EOS);
            if (NativeTokenizer.isAvailable()) {
                try (Tokenizer ref = NativeTokenizer.load(plain)) {
                    for (String text : TEXTS) {
                        assertThat(ids(java, text)).as(text).containsExactly(ids(ref, text));
                    }
                }
            }
        }
    }

    @Test
    void withoutUnkIdAnUnknownCharacterIsRefusedAsTheNativeOneRefusesIt() throws Exception {
        Path file = variant("no-unk.json", root -> ((ObjectNode) root.path("model")).putNull("unk_id"));
        try (Tokenizer java = Tokenizer.loadPureJava(file)) {
            assertThat(ids(java, "hello")).containsExactly(BOS, id("\u2581hello"), EOS);
            assertThatThrownBy(() -> java.encode("\uD83D\uDC4D", 8)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("has no unk_id and no piece for");
        }
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        try (Tokenizer ref = NativeTokenizer.load(file)) {
            assertThat(ids(ref, "hello")).containsExactly(BOS, id("\u2581hello"), EOS);
            assertThatThrownBy(() -> ref.encode("\uD83D\uDC4D", 8)).hasMessageContaining("unk");
        }
    }

    private Path variant(String name, Consumer<ObjectNode> edit) throws Exception {
        return write(name, SentencePieceFixture.xlmRobertaJson(edit));
    }

    private void compareWithNative(Path file) throws Exception {
        compareWithNative(file, false);
    }

    /**
     * Every text at full length and cut to 6, every ordered pair of the texts at 64 and 12 (the file's strategy, and
     * longest first; {@code onlySecond}: pairs whose second text is too short to cut are refused by both).
     */
    private void compareWithNative(Path file, boolean onlySecond) throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
            assertThat(java.implementation()).isEqualTo("java Unigram");
            assertThat(java.maxTokenId()).isEqualTo(ref.maxTokenId());
            for (String text : TEXTS) {
                for (int length : new int[] {512, 6}) {
                    assertThat(java.encode(text, length)).as("'%s' @%d", text, length).usingRecursiveComparison()
                            .isEqualTo(ref.encode(text, length));
                }
            }
            List<String> refused = new ArrayList<>();
            for (String a : TEXTS) {
                for (String b : TEXTS) {
                    for (int length : new int[] {64, 12}) {
                        assertThat(java.encodePairLongestFirst(a, b, length)).as("'%s' | '%s' @%d", a, b, length)
                                .usingRecursiveComparison().isEqualTo(ref.encodePairLongestFirst(a, b, length));
                        Encoding expected;
                        try {
                            expected = ref.encodePair(a, b, length);
                        } catch (IllegalArgumentException e) {
                            assertThat(onlySecond).as("the native tokenizer refused '%s' | '%s': %s", a, b, e).isTrue();
                            assertThatThrownBy(() -> java.encodePair(a, b, length))
                                    .isInstanceOf(IllegalArgumentException.class);
                            refused.add(a + " | " + b);
                            continue;
                        }
                        assertThat(java.encodePair(a, b, length)).as("'%s' | '%s' @%d (file's strategy)", a, b, length)
                                .usingRecursiveComparison().isEqualTo(expected);
                    }
                }
            }
            if (onlySecond) {
                assertThat(refused).as("pairs whose second text is too short to cut").isNotEmpty();
            }
        }
    }
}

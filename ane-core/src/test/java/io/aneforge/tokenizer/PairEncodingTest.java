package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Text pairs (cross-encoders): the pair template, segment ids and truncation of Hugging Face's tokenizers, and the
 * pure-Java tokenizers giving exactly the reference's ids, type ids and masks for them.
 */
class PairEncodingTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /**
     * Lengths from untruncated to a room of 1 or 2 besides BERT's or RoBERTa's pair specials: every branch of
     * longest-first truncation (a room of 0, the specials alone, has its own test).
     */
    private static final int[] LENGTHS = {512, 24, 11, 5};

    @TempDir
    Path dir;

    @Test
    void aPairIsClsFirstSepSecondSepWithTheSecondInSegmentOne() throws Exception {
        Path json = Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.wordPieceJson());
        try (NativeTokenizer tok = NativeTokenizer.load(json)) {
            int[] a = content(tok.encode("the cat sat", 32));
            int[] b = content(tok.encode("a dog ran away", 32));
            Encoding pair = tok.encodePair("the cat sat", "a dog ran away", 32);
            int n = 3 + a.length + b.length;
            assertThat(pair.length()).isEqualTo(n);
            int[] expected = new int[n];
            expected[0] = 2; // [CLS]
            System.arraycopy(a, 0, expected, 1, a.length);
            expected[1 + a.length] = 3; // [SEP]
            System.arraycopy(b, 0, expected, 2 + a.length, b.length);
            expected[n - 1] = 3;
            assertThat(pair.tokens()).containsExactly(expected);
            int[] types = new int[32];
            Arrays.fill(types, 2 + a.length, n, 1); // the second text and its [SEP]
            assertThat(pair.typeIds()).containsExactly(types);
            assertThat(Arrays.stream(pair.attentionMask()).sum()).isEqualTo(n);
            // a single text is segment 0 throughout
            assertThat(tok.encode("the cat sat", 32).typeIds()).containsOnly(0);

            // longest first: the longer text loses tokens until the pair fits (the shorter one keeps its tokens while
            // it has at most half of the room), both keep their [SEP]
            int max = 3 + 2 * a.length + 1;
            Encoding cut = tok.encodePair("the cat sat", "a dog ran away and the cat sat and the dog ran", max);
            assertThat(cut.length()).isEqualTo(max);
            assertThat(cut.tokens()[0]).isEqualTo(2);
            assertThat(Arrays.copyOfRange(cut.tokens(), 1, 1 + a.length)).containsExactly(a); // the short text whole
            assertThat(cut.tokens()[1 + a.length]).isEqualTo(3);
            assertThat(cut.tokens()[max - 1]).isEqualTo(3);
            assertThat(cut.typeIds()[max - 1]).isEqualTo(1);
        }
    }

    /** The real MiniLM tokenizer.json (TemplateProcessing, BERT's pair template): every ordered pair of the sentences. */
    @Test
    void javaWordPieceEncodesPairsAsTheReferenceOnMiniLm() throws Exception {
        Path miniLm = dir.resolve("minilm.json");
        Files.write(miniLm, MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE));
        int compared = assertSamePairs(miniLm, 3);
        assertThat(compared).isGreaterThan(500);
        try (Tokenizer java = Tokenizer.loadPureJava(miniLm)) {
            // [CLS]=101 hello=7592 [SEP]=102 world=2088 [SEP]: the second text and its [SEP] in segment 1
            Encoding e = java.encodePair("Hello", "world", 7);
            assertThat(e.ids()).containsExactly(101, 7592, 102, 2088, 102, 0, 0);
            assertThat(e.typeIds()).containsExactly(0, 0, 0, 1, 1, 0, 0);
            assertThat(e.attentionMask()).containsExactly(1, 1, 1, 1, 1, 0, 0);
        }
    }

    @Test
    void tinyWordPieceAndByteLevelBpeEncodePairsAsTheReference() throws Exception {
        Path wordPiece = Files.writeString(dir.resolve("wordpiece.json"), TinyTokenizers.wordPieceJson());
        assertSamePairs(wordPiece, 3);
        // ByteLevel post-processor: no special tokens, the second text in segment 1
        Path bpe = Files.writeString(dir.resolve("bpe.json"), TinyTokenizers.byteLevelBpeJson());
        assertSamePairs(bpe, 1);
        try (Tokenizer java = Tokenizer.loadPureJava(bpe)) {
            Encoding e = java.encodePair(" the", " world", 4);
            assertThat(e.length()).isEqualTo(2);
            assertThat(e.typeIds()).containsExactly(0, 1, 0, 0);
        }
    }

    /** BertProcessing and RobertaProcessing (RoBERTa's {@code <s> A </s></s> B </s>}, all segment 0), and Sequences. */
    @Test
    void bertRobertaAndSequenceProcessorsEncodePairsAsTheReference() throws Exception {
        ObjectNode bert = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        bert.set("post_processor", JSON.readTree("{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]}"));
        Path bertFile = write("bert.json", bert);
        assertSamePairs(bertFile, 3, 2);

        int eos = TinyTokenizers.byteLevelVocabSize() - 1;
        ObjectNode roberta = (ObjectNode) JSON.readTree(TinyTokenizers.byteLevelBpeJson());
        roberta.set("post_processor", JSON.readTree("{\"type\":\"RobertaProcessing\",\"sep\":[\"<|endoftext|>\"," + eos
                + "],\"cls\":[\"<|endoftext|>\"," + eos + "],\"trim_offsets\":true,\"add_prefix_space\":false}"));
        Path robertaFile = write("roberta.json", roberta);
        assertSamePairs(robertaFile, 4, 2);
        try (Tokenizer java = Tokenizer.loadPureJava(robertaFile)) {
            Encoding e = java.encodePair(" the", " world", 8);
            assertThat(e.tokens()).startsWith(eos).endsWith(eos).hasSize(6);
            assertThat(e.tokens()[2]).isEqualTo(eos);
            assertThat(e.tokens()[3]).isEqualTo(eos);
            assertThat(e.typeIds()).containsOnly(0);
        }

        // a Sequence of ByteLevel and the BERT template (what newer exports write), nested once
        ObjectNode sequence = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        ObjectNode template = (ObjectNode) sequence.get("post_processor");
        sequence.set("post_processor", JSON.readTree("{\"type\":\"Sequence\",\"processors\":[{\"type\":\"ByteLevel\","
                + "\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":true},{\"type\":\"Sequence\","
                + "\"processors\":[" + template + "]}]}"));
        assertSamePairs(write("sequence.json", sequence), 3, 2);
    }

    /**
     * A Sequence of two processors that add tokens, applied in turn as Hugging Face's tokenizers apply them: BERT's
     * processor, then a template around its encodings ({@code [MASK] $A} for one text, {@code [MASK] $A $B:1 [UNK]:1}
     * for a pair), and RoBERTa's then BERT's (BERT keeps the segments RoBERTa set to 0 and puts its last [SEP] in
     * segment 1); truncation leaves room for both processors' tokens. Same ids, segments and masks as the native
     * tokenizer, truncated or not.
     */
    @Test
    void aSequenceOfTwoProcessorsThatAddTokensEncodesAsTheReference() throws Exception {
        String bertProcessing = "{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]}";
        String around = "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"[MASK]\",\"type_id\":0}},"
                + "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[{\"SpecialToken\":{\"id\":\"[MASK]\","
                + "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},"
                + "{\"SpecialToken\":{\"id\":\"[UNK]\",\"type_id\":1}}],\"special_tokens\":{\"[MASK]\":{\"id\":\"[MASK]\","
                + "\"ids\":[4],\"tokens\":[\"[MASK]\"]},\"[UNK]\":{\"id\":\"[UNK]\",\"ids\":[1],\"tokens\":[\"[UNK]\"]}}}";
        ObjectNode bertThenTemplate = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        bertThenTemplate.set("post_processor", JSON.readTree("{\"type\":\"Sequence\",\"processors\":["
                + "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":true},"
                + bertProcessing + "," + around + "]}"));
        Path file = write("bert-then-template.json", bertThenTemplate);
        assertSamePairs(file, 5, 2);
        try (Tokenizer java = Tokenizer.loadPureJava(file)) {
            int hello = hello(file);
            int world = TokenizerJson.read(file).vocab().get("world");
            assertThat(java.encode("hello", 8).tokens()).containsExactly(4, 2, hello, 3);
            Encoding pair = java.encodePair("hello", "world", 10);
            assertThat(pair.tokens()).containsExactly(4, 2, hello, 3, world, 3, 1);
            assertThat(Arrays.copyOf(pair.typeIds(), 7)).containsExactly(0, 0, 0, 0, 1, 1, 1);
            // 5 specials around a pair: truncation leaves room for BERT's 3 and the template's 2
            assertThatThrownBy(() -> java.encodePair("hello", "world", 4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("maxLength 4 cannot hold the pair template's 5 special tokens");
        }

        ObjectNode robertaThenBert = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        robertaThenBert.set("post_processor", JSON.readTree("{\"type\":\"Sequence\",\"processors\":[{\"type\":"
                + "\"RobertaProcessing\",\"sep\":[\"[MASK]\",4],\"cls\":[\"[UNK]\",1],\"trim_offsets\":true,"
                + "\"add_prefix_space\":false},{\"type\":\"Sequence\",\"processors\":[" + bertProcessing + "]}]}"));
        Path second = write("roberta-then-bert.json", robertaThenBert);
        assertSamePairs(second, 11, 2);
        try (Tokenizer java = Tokenizer.loadPureJava(second)) {
            int hello = hello(second);
            int world = TokenizerJson.read(second).vocab().get("world");
            Encoding pair = java.encodePair("hello", "world", 12);
            assertThat(pair.tokens()).containsExactly(2, 1, hello, 4, 3, 4, world, 4, 3);
            assertThat(Arrays.copyOf(pair.typeIds(), 9)).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 1);
        }
    }

    /**
     * A token-adding processor after a template wraps each of the template's pieces: more special tokens than
     * truncation left room for (the native tokenizer returns them, and aneforge's wrapper of it then cuts the end
     * off). The Java tokenizer refuses such a file, naming the counts and the fix.
     */
    @Test
    void aProcessorAfterATemplateIsRefusedAsTheReferenceOverrunsTheLength() throws Exception {
        ObjectNode templateThenBert = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        String template = templateThenBert.get("post_processor").toString();
        templateThenBert.set("post_processor", JSON.readTree("{\"type\":\"Sequence\",\"processors\":[" + template
                + ",{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]}]}"));
        Path file = write("template-then-bert.json", templateThenBert);
        try (Tokenizer ref = NativeTokenizer.load(file)) {
            // [CLS] | hello | [SEP], each wrapped by BERT: [CLS] [CLS] [SEP] hello [SEP] [SEP] [SEP]
            int hello = TinyTokenizers.wordPieceVocab().indexOf("hello");
            assertThat(ref.encode("hello", 32).tokens()).containsExactly(2, 2, 3, hello, 3, 3, 3);
        }
        assertThatThrownBy(() -> Tokenizer.loadPureJava(file)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("adds 6 special tokens to one text but its processors count 4")
                .hasMessageContaining("the TemplateProcessing last");
    }

    /** tokenizer.json's truncation.strategy: only_first and only_second cut one text; too short a text is refused. */
    @Test
    void onlyFirstAndOnlySecondCutOneTextAsTheReference() throws Exception {
        for (String strategy : List.of("OnlyFirst", "OnlySecond", "LongestFirst")) {
            ObjectNode tok = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
            tok.set("truncation", JSON.readTree("{\"direction\":\"Right\",\"max_length\":512,\"strategy\":\"" + strategy
                    + "\",\"stride\":0}"));
            Path file = write(strategy + ".json", tok);
            try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
                String longText = "hello world the cafe " + "un aff able ".repeat(6);
                int refused = 0;
                for (String[] pair : List.of(new String[] {longText, "hello world"}, new String[] {"hello world", longText},
                        new String[] {longText, longText})) {
                    for (int length : new int[] {64, 30, 20, 12}) {
                        refused += assertSameOrBothRefuse(ref, java, pair[0], pair[1], length);
                    }
                }
                assertThat(refused).as("pairs that only one text cannot absorb").isEqualTo(strategy.equals("LongestFirst")
                        ? 0 : 6);
                // single texts are cut at the end whatever the strategy, as before
                assertThat(java.encode(longText, 8).ids()).containsExactly(ref.encode(longText, 8).ids());
                if (strategy.equals("OnlyFirst")) {
                    Encoding cut = java.encodePair(longText, "hello world", 12);
                    int secondTokens = Arrays.stream(cut.typeIds()).sum() - 1; // segment 1 less its [SEP]
                    assertThat(secondTokens).isEqualTo(2); // the second text whole
                    // the first text has 2 tokens, 9 must go: refused by both, naming the strategy
                    for (Tokenizer t : List.of(ref, java)) {
                        assertThatThrownBy(() -> t.encodePair("hello world", longText, 12)).as(t.implementation())
                                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only_first");
                    }
                } else if (strategy.equals("OnlySecond")) {
                    assertThatThrownBy(() -> java.encodePair(longText, "hello world", 12))
                            .isInstanceOf(IllegalArgumentException.class)
                            .hasMessageContaining("only_second may cut only the second text, which has 2 tokens");
                    assertThatThrownBy(() -> ref.encodePair(longText, "hello world", 12))
                            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only_second");
                }
            }
        }
    }

    /**
     * A tokenizer.json whose truncation carries a stride (128, as a file saved after a question-answering preprocessing
     * call has): cutting a text or a pair to a room at most the stride made Rust assert {@code stride < max_len}, which
     * aborted the JVM (exit 134). Both tokenizers encode it, with the same ids.
     */
    @Test
    void aStrideInTokenizerJsonNeitherAbortsNorChangesTheIds() throws Exception {
        ObjectNode miniLm = (ObjectNode) JSON.readTree(MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE));
        String longText = "Paris is the capital and most populous city of France. " + "It is on the Seine. ".repeat(30);
        for (String strategy : List.of("OnlySecond", "LongestFirst")) {
            miniLm.set("truncation", JSON.readTree("{\"direction\":\"Right\",\"max_length\":384,\"strategy\":\""
                    + strategy + "\",\"stride\":128}"));
            Path file = write("stride-" + strategy + ".json", miniLm);
            try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
                for (int length : new int[] {16, 128}) {
                    Encoding one = ref.encode(longText, length);
                    assertThat(one.length()).isEqualTo(length);
                    assertThat(java.encode(longText, length).ids()).as("@%d", length).containsExactly(one.ids());
                    assertSame(ref, java, "What is the capital of France?", longText, length);
                    assertThat(ref.encodePair("What is the capital of France?", longText, length).length())
                            .isEqualTo(length);
                }
            }
        }
    }

    /**
     * A length that holds only the pair template's special tokens (3 for BERT, 4 for RoBERTa): Hugging Face empties
     * both texts whatever the strategy, and the Java tokenizer does the same; one token fewer is refused by both (Rust
     * would wrap the room around and return a prefix of the whole pair).
     */
    @Test
    void aLengthOfOnlyTheSpecialTokensEncodesTheSpecialsAloneUnderEveryStrategy() throws Exception {
        int eos = TinyTokenizers.byteLevelVocabSize() - 1;
        String longText = "hello world the cafe " + "un aff able ".repeat(6);
        for (String strategy : List.of("LongestFirst", "OnlyFirst", "OnlySecond")) {
            for (String direction : List.of("Right", "Left")) {
                String truncation = "{\"direction\":\"" + direction + "\",\"max_length\":512,\"strategy\":\""
                        + strategy + "\",\"stride\":0}";
                ObjectNode bert = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
                bert.set("post_processor", JSON.readTree(
                        "{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]}"));
                bert.set("truncation", JSON.readTree(truncation));
                ObjectNode roberta = (ObjectNode) JSON.readTree(TinyTokenizers.byteLevelBpeJson());
                roberta.set("post_processor", JSON.readTree("{\"type\":\"RobertaProcessing\",\"sep\":[\"<|endoftext|>\","
                        + eos + "],\"cls\":[\"<|endoftext|>\"," + eos + "],\"trim_offsets\":true,"
                        + "\"add_prefix_space\":false}"));
                roberta.set("truncation", JSON.readTree(truncation));
                for (Object[] c : List.of(new Object[] {bert, 3, new int[] {2, 3, 3}, "hello world"},
                        new Object[] {roberta, 4, new int[] {eos, eos, eos, eos}, " hello world"})) {
                    int specials = (Integer) c[1];
                    Path file = write("specials-" + strategy + direction + specials + ".json", (ObjectNode) c[0]);
                    try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
                        for (String[] pair : List.of(new String[] {longText, (String) c[3]},
                                new String[] {(String) c[3], longText})) {
                            String what = strategy + " " + direction + " " + Arrays.toString(pair);
                            assertSame(ref, java, pair[0], pair[1], specials);
                            assertThat(java.encodePair(pair[0], pair[1], specials).tokens()).as(what)
                                    .containsExactly((int[]) c[2]);
                            for (Tokenizer t : List.of(ref, java)) {
                                assertThatThrownBy(() -> t.encodePair(pair[0], pair[1], specials - 1))
                                        .as(t.implementation() + " " + what)
                                        .isInstanceOf(IllegalArgumentException.class)
                                        .hasMessage("maxLength " + (specials - 1) + " cannot hold the pair template's "
                                                + specials + " special tokens");
                            }
                        }
                    }
                }
            }
        }
    }

    /** truncation.direction Left: one text and both texts of a pair keep their last tokens, as the reference does. */
    @Test
    void leftTruncationKeepsTheLastTokensAsTheReference() throws Exception {
        for (String strategy : List.of("LongestFirst", "OnlyFirst", "OnlySecond")) {
            ObjectNode tok = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
            tok.set("truncation", JSON.readTree("{\"direction\":\"Left\",\"max_length\":512,\"strategy\":\""
                    + strategy + "\",\"stride\":0}"));
            Path file = write("left-" + strategy + ".json", tok);
            try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
                String longText = "hello world the cafe " + "un aff able ".repeat(4) + "naive";
                for (int length : new int[] {64, 9, 5, 3}) {
                    assertThat(java.encode(longText, length).ids()).as("@%d", length)
                            .containsExactly(ref.encode(longText, length).ids());
                }
                // [CLS] the last token [SEP]: "naive", not "hello"
                assertThat(java.encode(longText, 3).tokens()).containsExactly(2,
                        TokenizerJson.read(file).vocab().get("naive"), 3);
                for (String[] pair : List.of(new String[] {longText, "the world hello cafe"},
                        new String[] {"cafe the world", longText}, new String[] {longText, longText})) {
                    for (int length : new int[] {64, 24, 12}) {
                        assertSameOrBothRefuse(ref, java, pair[0], pair[1], length);
                    }
                }
            }
        }
        ObjectNode bad = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        bad.set("truncation", JSON.readTree("{\"direction\":\"Middle\",\"max_length\":512,\"strategy\":\"LongestFirst\","
                + "\"stride\":0}"));
        Path badDirection = write("direction.json", bad);
        assertThatThrownBy(() -> Tokenizer.loadPureJava(badDirection)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("truncation.direction \"Middle\"").hasMessageContaining("Left or Right");
        assertThatThrownBy(() -> NativeTokenizer.load(badDirection)).isInstanceOf(TokenizerException.class);
    }

    @Test
    void refusesWhatItCannotEncodeNamingTheProblem() throws Exception {
        ObjectNode bad = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        bad.set("truncation", JSON.readTree("{\"max_length\":512,\"strategy\":\"Middle\",\"stride\":0}"));
        Path badStrategy = write("strategy.json", bad);
        assertThatThrownBy(() -> Tokenizer.loadPureJava(badStrategy)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("truncation.strategy \"Middle\"").hasMessageContaining("LongestFirst, OnlyFirst or"
                        + " OnlySecond");
        assertThatThrownBy(() -> NativeTokenizer.load(badStrategy)).isInstanceOf(TokenizerException.class);

        // a template without a pair form: one text works, a pair is refused naming the missing template
        ObjectNode singleOnly = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        ((ObjectNode) singleOnly.get("post_processor")).remove("pair");
        Path noPair = write("nopair.json", singleOnly);
        try (Tokenizer java = Tokenizer.loadPureJava(noPair)) {
            assertThat(java.encode("hello", 8).tokens()).containsExactly(2, hello(noPair), 3);
            assertThatThrownBy(() -> java.encodePair("hello", "world", 8)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("has no 'pair' template");
        }

        // a pair template naming a third sequence, or missing B
        for (String pair : List.of("[{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"Sequence\":{\"id\":\"C\",\"type_id\":1}}]",
                "[{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}]")) {
            ObjectNode t = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
            ((ObjectNode) t.get("post_processor")).set("pair", JSON.readTree(pair));
            Path f = write("badpair.json", t);
            assertThatThrownBy(() -> Tokenizer.loadPureJava(f)).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining("post_processor pair template");
        }

        // a template after a template: the second is given the first's three pieces, where the native tokenizer stops
        // the process (todo!()), so the Java tokenizer refuses the file, naming the order to change
        ObjectNode twice = (ObjectNode) JSON.readTree(TinyTokenizers.wordPieceJson());
        String template = twice.get("post_processor").toString();
        twice.set("post_processor", JSON.readTree("{\"type\":\"Sequence\",\"processors\":[" + template + "," + template
                + "]}"));
        Path twiceFile = write("twice.json", twice);
        assertThatThrownBy(() -> Tokenizer.loadPureJava(twiceFile)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("gives a TemplateProcessing 3 encodings").hasMessageContaining("todo!()");

        // fewer tokens than the pair template's specials
        Path wordPiece = Files.writeString(dir.resolve("wordpiece.json"), TinyTokenizers.wordPieceJson());
        try (Tokenizer java = Tokenizer.loadPureJava(wordPiece)) {
            assertThatThrownBy(() -> java.encodePair("hello", "world", 2)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("maxLength 2 cannot hold the pair template's 3 special tokens");
            assertThatThrownBy(() -> java.encodePair("hello", "world", 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxLength must be at least 2");
        }
    }

    /**
     * Every ordered pair of {@link TokenizerTest#SENTENCES} (accents, CJK, emoji, very long words, empty) and two more
     * at each length of {@link #LENGTHS} from {@code minLength} that is at least a quarter of the pair's tokens:
     * identical ids, type ids and masks (and each text alone: identical ids). Returns the pair encodings compared.
     * (The reference also builds the overflowing pieces of a truncated pair, as many as the product of both texts'
     * pieces: a 200-token pair cut to 4 costs it tenths of a second, and shows no more than a cut to 24 does.)
     */
    private static int assertSamePairs(Path file, int minLength) throws Exception {
        return assertSamePairs(file, minLength, 1);
    }

    /** Like {@link #assertSamePairs(Path, int)} on every {@code step}-th text only (for variants of a tested file). */
    private static int assertSamePairs(Path file, int minLength, int step) throws Exception {
        int compared = 0;
        try (Tokenizer ref = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
            List<String> texts = new ArrayList<>(TokenizerTest.SENTENCES);
            texts.add("What is the capital of France?");
            texts.add("Paris is the capital and most populous city of France. " + "It is on the Seine. ".repeat(5));
            for (int i = 0; i < texts.size(); i += step) {
                for (int length : LENGTHS) { // one text through the same post-processor: the single template
                    if (length >= minLength) {
                        assertThat(java.encode(texts.get(i), length).ids()).as("'%s' @%d", texts.get(i), length)
                                .containsExactly(ref.encode(texts.get(i), length).ids());
                    }
                }
                for (int j = 0; j < texts.size(); j += step) {
                    String first = texts.get(i);
                    String second = texts.get(j);
                    int tokens = java.encodePair(first, second, 4096).length();
                    for (int length : LENGTHS) {
                        if (length >= minLength && 4 * length >= tokens) {
                            assertSame(ref, java, first, second, length);
                            compared++;
                        }
                    }
                }
            }
        }
        return compared;
    }

    private static void assertSame(Tokenizer ref, Tokenizer java, String first, String second, int length) {
        Encoding expected = ref.encodePair(first, second, length);
        Encoding actual = java.encodePair(first, second, length);
        String what = "'" + first + "' + '" + second + "' @" + length;
        assertThat(actual.ids()).as("ids " + what).containsExactly(expected.ids());
        assertThat(actual.typeIds()).as("type ids " + what).containsExactly(expected.typeIds());
        assertThat(actual.attentionMask()).as("mask " + what).containsExactly(expected.attentionMask());
        assertThat(actual.length()).as(what).isEqualTo(expected.length());
    }

    /** Like {@link #assertSame}, or both refuse the pair (1) with an IllegalArgumentException naming the strategy. */
    private static int assertSameOrBothRefuse(Tokenizer ref, Tokenizer java, String first, String second, int length) {
        try {
            ref.encodePair(first, second, length);
        } catch (IllegalArgumentException e) {
            assertThat(e).hasMessageContaining("only_");
            assertThatThrownBy(() -> java.encodePair(first, second, length)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("may cut only the");
            return 1;
        }
        assertSame(ref, java, first, second, length);
        return 0;
    }

    private int hello(Path file) throws Exception {
        return TokenizerJson.read(file).vocab().get("hello");
    }

    private Path write(String name, ObjectNode json) throws Exception {
        return Files.writeString(dir.resolve(name), JSON.writeValueAsString(json));
    }

    private static int[] content(Encoding e) {
        return Arrays.copyOfRange(e.tokens(), 1, e.length() - 1);
    }
}

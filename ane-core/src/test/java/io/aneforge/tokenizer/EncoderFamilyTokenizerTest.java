package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tokenizers of the encoder families beside BERT. MPNet (all-mpnet-base-v2): WordPiece with BERT's normalizer and
 * pre-tokenizer, {@code <s>}/{@code </s>} specials from a TemplateProcessing with two {@code </s>} between the texts of a
 * pair, as transformers' {@code MPNetConverter} writes it; the Java tokenizer handles it and agrees with the native one.
 * XLM-RoBERTa: a SentencePiece {@code Unigram} model, which both read ({@link UnigramTokenizerTest} compares them on a
 * file with XLM-RoBERTa's charsmap normalizer).
 */
class EncoderFamilyTokenizerTest {
    @TempDir
    Path dir;

    @Test
    void mpnetTemplateInTheJavaTokenizer() throws Exception {
        Path file = Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.mpnetJson());
        List<String> v = TinyTokenizers.mpnetVocab();
        int hello = v.indexOf("hello");
        int world = v.indexOf("world");
        int pad = v.indexOf("[PAD]"); // no padding block: [PAD] before <pad> (masked positions, no real token changes)
        try (Tokenizer java = Tokenizer.loadPureJava(file)) {
            Encoding one = java.encode("Hello world", 6);
            assertThat(one.ids()).containsExactly(0, hello, world, 2, pad, pad);
            assertThat(one.attentionMask()).containsExactly(1, 1, 1, 1, 0, 0);
            Encoding pair = java.encodePair("hello", "world", 8);
            // <s> A </s> </s> B </s>: the second text and its closing </s> in segment 1
            assertThat(pair.ids()).containsExactly(0, hello, 2, 2, world, 2, pad, pad);
            assertThat(pair.typeIds()).containsExactly(0, 0, 0, 0, 1, 1, 0, 0);
            // <mask> strips the space before it (lstrip), as the reference does
            assertThat(java.encode("hello <mask>", 4).ids()).containsExactly(0, hello, v.indexOf("<mask>"), 2);
            assertThat(java.maxTokenId()).isEqualTo(v.size() - 1);
        }
    }

    /** The Java and native tokenizers give the same ids, types and masks on MPNet's template. */
    @Test
    void mpnetJavaAgreesWithNative() throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        Path file = Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.mpnetJson());
        List<String> texts = List.of("Hello world", "the caf\u00e9 is naive", "un-affable <mask> words!", "", "中文 日本",
                "hello hello hello hello hello hello hello hello hello hello hello hello");
        try (Tokenizer java = Tokenizer.loadPureJava(file); Tokenizer ref = NativeTokenizer.load(file)) {
            for (String a : texts) {
                for (int len : new int[] {6, 16}) {
                    assertThat(java.encode(a, len)).as(a + " @" + len).usingRecursiveComparison().isEqualTo(ref.encode(a, len));
                }
                for (String b : texts) {
                    assertThat(java.encodePair(a, b, 24)).as(a + " | " + b).usingRecursiveComparison().isEqualTo(ref.encodePair(a, b, 24));
                    assertThat(java.encodePair(a, b, 9)).as(a + " | " + b + " @9").usingRecursiveComparison().isEqualTo(ref.encodePair(a, b, 9));
                }
            }
            assertThat(java.maxTokenId()).isEqualTo(ref.maxTokenId());
        }
    }

    @Test
    void unigramInTheJavaTokenizer() throws Exception {
        Path file = Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.unigramJson());
        try (Tokenizer java = Tokenizer.loadPureJava(file)) {
            assertThat(java.implementation()).isEqualTo("java Unigram");
            assertThat(java.encode("hello world", 6).ids()).containsExactly(0, 4, 5, 2, 1, 1);
            assertThat(java.encodePair("hello", "world", 8).ids()).containsExactly(0, 4, 2, 2, 5, 2, 1, 1);
            assertThat(java.maxTokenId()).isEqualTo(13);
        }
    }

    @Test
    void unigramInTheNativeTokenizer() throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        Path file = Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.unigramJson());
        try (Tokenizer ref = NativeTokenizer.load(file)) {
            assertThat(ref.encode("hello world", 6).ids()).containsExactly(0, 4, 5, 2, 1, 1);
            assertThat(ref.encodePair("hello", "world", 8).ids()).containsExactly(0, 4, 2, 2, 5, 2, 1, 1);
            assertThat(ref.maxTokenId()).isEqualTo(13); // the vocabulary array's last index (the conversion's check)
        }
    }

    /**
     * The legacy Metaspace form ({@code add_prefix_space}, in a {@code Sequence} after {@code WhitespaceSplit}, as the
     * Hub's xlm-roberta-base tokenizer.json has it) loads in the native tokenizer and gives the ids of the current form
     * on single-spaced texts and pairs; the scan the conversion runs (largest id, pad id) reads it too.
     */
    @Test
    void unigramWithTheLegacyMetaspaceForm() throws Exception {
        assumeTrue(NativeTokenizer.isAvailable(), "the native tokenizer does not load here");
        Path legacy = Files.writeString(dir.resolve("legacy.json"), TinyTokenizers.unigramJsonLegacyMetaspace());
        Path modern = Files.writeString(dir.resolve("modern.json"), TinyTokenizers.unigramJson());
        assertThat(Files.readString(legacy)).contains("\"add_prefix_space\":true").doesNotContain("prepend_scheme");
        try (Tokenizer old = NativeTokenizer.load(legacy); Tokenizer now = NativeTokenizer.load(modern)) {
            assertThat(old.encode("hello world", 6).ids()).containsExactly(0, 4, 5, 2, 1, 1);
            for (String text : List.of("hello world", "held word", "hello, world!", "")) {
                assertThat(old.encode(text, 12)).as(text).usingRecursiveComparison().isEqualTo(now.encode(text, 12));
                assertThat(old.encodePair(text, "world hello", 16)).as(text + " | world hello")
                        .usingRecursiveComparison().isEqualTo(now.encodePair(text, "world hello", 16));
            }
            // WhitespaceSplit first: runs of spaces are one boundary (the current form alone makes ▁ pieces of them)
            assertThat(old.encode("  hello   world ", 6).ids()).containsExactly(0, 4, 5, 2, 1, 1);
            assertThat(old.maxTokenId()).isEqualTo(13);
        }
        assertThat(TokenizerJson.padId(legacy)).isEqualTo(1);
    }
}

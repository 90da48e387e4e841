package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pure-Java tokenizers must give exactly the ids of the reference (Hugging Face tokenizers
 * in Rust, through DJL) on sentences with accents, CJK, emoji, very long words and odd spacing.
 */
class TokenizerTest {
    static final List<String> SENTENCES = List.of(
            "Hello, world!",
            "The quick brown fox jumps over the lazy dog.",
            "Café naïve résumé — Ångström, Øresund, façade, Straße, İstanbul.",
            "北京是中国的首都。東京は日本の首都です。서울은 한국의 수도입니다.",
            "Emoji test 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷 heart ❤️ and 🤖robots🤖",
            "Pneumonoultramicroscopicsilicovolcanoconiosis and supercalifragilisticexpialidocious",
            "a".repeat(150) + " then " + "x1y2z3".repeat(30),
            "  tabs\tand\nnewlines\r\n  and   multiple   spaces  ",
            "Numbers 3.14159, 1,000,000 and 2nd-3rd; e-mail: someone@example.com (URL: https://x.y/z?q=1).",
            "Control\u0000chars\u200b zero\u00a0width\ufeff and \u0301combining",
            "unaffable UNAFFABLE Unaffable",
            "Special [MASK] tokens[SEP]inside [CLS]text and <|endoftext|>end",
            "");

    static Path miniLm;
    static Path tinyBpe;

    @BeforeAll
    static void files(@TempDir Path dir) throws Exception {
        miniLm = dir.resolve("minilm-tokenizer.json");
        Files.write(miniLm, MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE));
        tinyBpe = dir.resolve("bpe-tokenizer.json");
        Files.writeString(tinyBpe, TinyTokenizers.byteLevelBpeJson());
    }

    @Test
    void nativeReferenceLoadsOfflineOnThisHost() {
        assertThat(NativeTokenizer.isAvailable()).as("DJL bundled native tokenizers library").isTrue();
    }

    @Test
    void nativeMiniLmIdsMatchKnownBertIds() throws Exception {
        try (Tokenizer t = NativeTokenizer.load(miniLm)) {
            Encoding e = t.encode("Hello, world!", 8);
            // bert-base-uncased: [CLS]=101 hello=7592 ,=1010 world=2088 !=999 [SEP]=102, then padding.
            assertThat(e.ids()).containsExactly(101, 7592, 1010, 2088, 999, 102, 0, 0);
            assertThat(e.attentionMask()).containsExactly(1, 1, 1, 1, 1, 1, 0, 0);
            // longer than the length: Hugging Face's truncation keeps the trailing [SEP]; exactly full: untouched
            assertThat(t.encode("Hello, world!", 4).ids()).containsExactly(101, 7592, 1010, 102);
            assertThat(t.encode("Hello, world!", 6).ids()).containsExactly(101, 7592, 1010, 2088, 999, 102);
            assertThat(t.encode("Hello, world!", 5).ids()).containsExactly(101, 7592, 1010, 2088, 102);
            assertThat(t.encode("Hello, world!", 8).ids()).containsExactly(e.ids());
        }
    }

    @Test
    void javaWordPieceEqualsReferenceOnMiniLm() throws Exception {
        try (Tokenizer ref = NativeTokenizer.load(miniLm); Tokenizer java = Tokenizer.loadPureJava(miniLm)) {
            assertThat(java.implementation()).contains("WordPiece");
            for (String s : SENTENCES) {
                for (int maxLength : new int[] {512, 16}) {
                    Encoding expected = ref.encode(s, maxLength);
                    Encoding actual = java.encode(s, maxLength);
                    assertThat(actual.ids()).as("'%s' @%d", s, maxLength).containsExactly(expected.ids());
                    assertThat(actual.attentionMask()).as("mask '%s'", s).containsExactly(expected.attentionMask());
                }
            }
            // Truncation keeps [CLS] ... [SEP].
            Encoding cut = java.encode(SENTENCES.get(1), 5);
            assertThat(cut.ids()[0]).isEqualTo(101);
            assertThat(cut.ids()[4]).isEqualTo(102);
        }
    }

    @Test
    void javaByteLevelBpeEqualsReference() throws Exception {
        try (Tokenizer ref = NativeTokenizer.load(tinyBpe); Tokenizer java = Tokenizer.loadPureJava(tinyBpe)) {
            assertThat(java.implementation()).contains("BPE");
            for (String s : SENTENCES) {
                for (int maxLength : new int[] {1024, 9}) {
                    assertThat(java.encode(s, maxLength).ids()).as("'%s' @%d", s, maxLength)
                            .containsExactly(ref.encode(s, maxLength).ids());
                }
            }
            // Merges were applied: " the" and " world" are single tokens.
            assertThat(java.encode(" the world", 64).length()).isEqualTo(2);
        }
    }

    @Test
    void pureJavaIsSelectedBySystemProperty() throws Exception {
        String before = System.getProperty(Tokenizer.IMPLEMENTATION_PROPERTY);
        try {
            System.setProperty(Tokenizer.IMPLEMENTATION_PROPERTY, "java");
            try (Tokenizer t = Tokenizer.load(miniLm)) {
                assertThat(t.implementation()).isEqualTo("java WordPiece");
                assertThat(t.encode("[MASK] hello", 4).ids()).containsExactly(101, 103, 7592, 102);
            }
            System.setProperty(Tokenizer.IMPLEMENTATION_PROPERTY, "auto");
            try (Tokenizer t = Tokenizer.load(miniLm)) {
                assertThat(t.implementation()).contains("native");
            }
        } finally {
            if (before == null) {
                System.clearProperty(Tokenizer.IMPLEMENTATION_PROPERTY);
            } else {
                System.setProperty(Tokenizer.IMPLEMENTATION_PROPERTY, before);
            }
        }
    }

    @Test
    void tinyWordPieceEqualsReference() throws Exception {
        Path wp = miniLm.resolveSibling("tiny-wordpiece.json");
        Files.writeString(wp, TinyTokenizers.wordPieceJson());
        try (Tokenizer ref = NativeTokenizer.load(wp); Tokenizer java = Tokenizer.loadPureJava(wp)) {
            for (String s : SENTENCES) {
                assertThat(java.encode(s, 256).ids()).as(s).containsExactly(ref.encode(s, 256).ids());
            }
        }
    }
}

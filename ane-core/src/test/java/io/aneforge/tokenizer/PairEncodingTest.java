package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text pairs (cross-encoders): the pair template, segment ids and longest-first truncation of Hugging Face's tokenizer. */
class PairEncodingTest {
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

    @Test
    void theJavaTokenizerRefusesPairsNamingTheFix() throws Exception {
        Path json = Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.wordPieceJson());
        try (Tokenizer tok = Tokenizer.loadPureJava(json)) {
            assertThatThrownBy(() -> tok.encodePair("a", "b", 8)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageStartingWith("text pairs need the native tokenizer (Hugging Face tokenizers through DJL)")
                    .hasMessageEndingWith("without -Daneforge.tokenizer=java");
        }
    }

    private static int[] content(Encoding e) {
        return Arrays.copyOfRange(e.tokens(), 1, e.length() - 1);
    }
}

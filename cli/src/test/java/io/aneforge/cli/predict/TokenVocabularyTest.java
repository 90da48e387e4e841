package io.aneforge.cli.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.cli.UsageException;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token names as the fill-mask pipeline shows them ({@code tokenizer.decode([id])}), and the mask token. */
class TokenVocabularyTest {
    @TempDir
    Path dir;

    @Test
    void wordPieceTokensAreShownAsWrittenAndItsMaskIsFound() throws Exception {
        Path json = Files.writeString(dir.resolve("bert.json"), TinyTokenizers.wordPieceJson());
        TokenVocabulary v = TokenVocabulary.read(json);
        assertThat(v.maskToken()).isEqualTo("[MASK]");
        assertThat(v.maskId()).isEqualTo(TinyTokenizers.wordPieceVocab().indexOf("[MASK]"));
        int s = TinyTokenizers.wordPieceVocab().indexOf("##a");
        assertThat(v.decode(s)).isEqualTo("##a");
        assertThat(v.decode(100_000)).isEqualTo("[100000]");
    }

    /**
     * MPNet's tokenizer.json (all-mpnet-base-v2's form): BERT's {@code [MASK]} is an ordinary vocabulary entry (before
     * {@code <mask>} in the candidates' order), the tokenizer's mask token the special added {@code <mask>}.
     */
    @Test
    void mpnetsMaskIsTheSpecialAddedToken() throws Exception {
        Path json = Files.writeString(dir.resolve("mpnet.json"), TinyTokenizers.mpnetJson());
        TokenVocabulary v = TokenVocabulary.read(json);
        assertThat(TinyTokenizers.mpnetVocab()).contains("[MASK]");
        assertThat(v.maskToken()).isEqualTo("<mask>");
        assertThat(v.maskId()).isEqualTo(TinyTokenizers.mpnetVocab().indexOf("<mask>"));
        // without special added tokens, a vocabulary entry still serves, in the candidates' order
        Path plain = Files.writeString(dir.resolve("plain.json"), """
                {"added_tokens": [{"id": 3, "content": "<mask>", "special": false}],
                 "model": {"type": "WordPiece", "vocab": {"a": 0, "[MASK]": 1, "b": 2, "<mask>": 3}}}
                """);
        assertThat(TokenVocabulary.read(plain).maskToken()).isEqualTo("[MASK]");
        assertThat(TokenVocabulary.read(plain).maskId()).isEqualTo(1);
    }

    /** RoBERTa's byte-level tokens: {@code Ġ} is the space before a word, {@code Ã©} the two UTF-8 bytes of é. */
    @Test
    void byteLevelTokensAreDecodedToTheirText() throws Exception {
        Path json = Files.writeString(dir.resolve("roberta.json"), """
                {"added_tokens": [{"id": 0, "content": "<s>", "special": true},
                                  {"id": 4, "content": "<mask>", "special": true, "lstrip": true}],
                 "decoder": {"type": "ByteLevel"},
                 "model": {"type": "BPE", "vocab": {"<s>": 0, "Ġparis": 1, "cafÃ©": 2, "Ġ": 3, "<mask>": 4}}}
                """);
        TokenVocabulary v = TokenVocabulary.read(json);
        assertThat(v.maskToken()).isEqualTo("<mask>");
        assertThat(v.maskId()).isEqualTo(4);
        assertThat(v.decode(1)).isEqualTo(" paris");
        assertThat(v.decode(2)).isEqualTo("café");
        assertThat(v.decode(0)).isEqualTo("<s>");
        // the top tokens of a (1, S, V) row, likeliest first, with their softmax probability
        FloatTensor logits = new FloatTensor(new int[] {1, 2, 5}, new float[] {0, 0, 0, 0, 0, 1, 3, 2, 0, 0});
        var masks = MaskPredictions.top(logits, MaskPredictions.positions(new int[] {0, 4, 9}, 2, 4), 2, v);
        assertThat(masks).singleElement().satisfies(m -> {
            assertThat(m.position()).isEqualTo(1);
            double sum = Math.exp(1) + Math.exp(3) + Math.exp(2) + 2;
            assertThat(m.candidates()).extracting(MaskPredictions.Candidate::token, MaskPredictions.Candidate::id)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(" paris", 1),
                            org.assertj.core.groups.Tuple.tuple("café", 2));
            assertThat(m.candidates().get(0).score()).isCloseTo(Math.exp(3) / sum, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(m.candidates().get(1).score()).isCloseTo(Math.exp(2) / sum, org.assertj.core.data.Offset.offset(1e-12));
        });
    }

    @Test
    void aTokenizerWithoutAMaskTokenIsRefused() throws Exception {
        Path json = Files.writeString(dir.resolve("gpt2.json"), TinyTokenizers.byteLevelBpeJson());
        assertThatThrownBy(() -> TokenVocabulary.read(json)).isInstanceOf(UsageException.class)
                .hasMessage(json + " has no mask token ([MASK] or <mask>), which a fill-mask package predicts: pass the"
                        + " tokenizer.json of the package's model (--tokenizer or --source)");
    }
}

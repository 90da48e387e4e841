package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming pad id (what the native tokenizer reads) is the one the full parse gives, and refuses what it refuses. */
class PadIdTest {

    @Test
    void streamingPadIdIsTheFullParsesOnRealAndEdgeFiles(@TempDir Path dir) throws Exception {
        Path miniLm = dir.resolve("minilm.json");
        Files.write(miniLm, MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE));
        Path bpe = dir.resolve("bpe.json");
        Files.writeString(bpe, TinyTokenizers.byteLevelBpeJson());
        String[] edge = {
                // padding object wins over the vocabulary
                "{\"padding\":{\"strategy\":\"BatchLongest\",\"pad_id\":7},\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[PAD]\":0,\"a\":1}}}",
                // padding object without pad_id: 0
                "{\"padding\":{\"pad_token\":\"[PAD]\"},\"model\":{\"vocab\":{\"[PAD]\":5}}}",
                // no padding: [PAD] from the vocabulary, fields in any order
                "{\"added_tokens\":[{\"id\":9,\"content\":\"[PAD]\"}],\"model\":{\"vocab\":{\"x\":0,\"[PAD]\":3}},\"padding\":null}",
                // [PAD] only among the added tokens, first one wins
                "{\"model\":{\"vocab\":{\"x\":0}},\"added_tokens\":[{\"content\":\"[PAD]\",\"id\":4,\"special\":true},{\"content\":\"[PAD]\",\"id\":8}]}",
                // odd entries among the added tokens are skipped, the fields after them still read
                "{\"added_tokens\":[\"x\",[1],{\"content\":\"[PAD]\",\"id\":6}],\"model\":{\"vocab\":{\"y\":1}}}",
                // <pad> when there is no [PAD]
                "{\"model\":{\"merges\":[[\"a\",\"b\"]],\"vocab\":{\"<pad>\":2,\"y\":1}}}",
                // neither: 0
                "{\"model\":{\"vocab\":{\"y\":1}},\"post_processor\":{\"type\":\"ByteLevel\"}}"};
        int[] expected = {7, 0, 3, 4, 6, 2, 0};
        for (int i = 0; i < edge.length; i++) {
            Path f = dir.resolve("edge" + i + ".json");
            Files.writeString(f, edge[i]);
            assertThat(TokenizerJson.padId(f)).as(edge[i]).isEqualTo(expected[i]).isEqualTo(TokenizerJson.read(f).padId());
        }
        assertThat(TokenizerJson.padId(miniLm)).isEqualTo(TokenizerJson.read(miniLm).padId()).isEqualTo(0);
        assertThat(TokenizerJson.padId(bpe)).isEqualTo(TokenizerJson.read(bpe).padId());
        // the largest id, from the same pass: what Tokenizer.maxTokenId gives, whichever implementation loads the file
        int[] maxIds = {7, 5, 9, 8, 6, 2, 1};
        for (int i = 0; i < edge.length; i++) {
            assertThat(TokenizerJson.scan(dir.resolve("edge" + i + ".json")).maxId()).as(edge[i]).isEqualTo(maxIds[i]);
        }
        assertThat(TokenizerJson.scan(miniLm).maxId()).isEqualTo(TokenizerJson.read(miniLm).maxId()).isEqualTo(30521);
        assertThat(TokenizerJson.scan(bpe).maxId()).isEqualTo(TokenizerJson.read(bpe).maxId());
        try (Tokenizer java = Tokenizer.loadPureJava(miniLm); Tokenizer any = Tokenizer.load(miniLm)) {
            assertThat(java.maxTokenId()).isEqualTo(any.maxTokenId()).isEqualTo(30521);
        }
    }

    @Test
    void refusesWhatTheFullParseRefuses(@TempDir Path dir) throws Exception {
        String[][] bad = {
                {"{\"model\":{\"vocab\":{\"a\":1}", "not valid JSON"},
                {"{\"model\":{\"type\":\"WordPiece\"}}", "no 'model' with a 'vocab' object"},
                {"[1,2]", "no 'model' with a 'vocab' object"},
                {"{\"model\":{\"vocab\":{\"a\":\"one\"}}}", "vocab id for 'a' is not an integer"}};
        for (String[] b : bad) {
            Path f = dir.resolve("bad.json");
            Files.writeString(f, b[0]);
            assertThatThrownBy(() -> TokenizerJson.padId(f)).as(b[0]).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining(b[1]);
            assertThatThrownBy(() -> TokenizerJson.read(f)).as(b[0]).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining(b[1]);
        }
        assertThatThrownBy(() -> TokenizerJson.padId(dir.resolve("absent.json"))).hasMessageContaining("missing");
    }

    /**
     * The post-processor's special tokens are ids the tokenizer emits as given: a [CLS] of 5000 with a 90-row
     * vocabulary used to pass the native tokenizer's check (it read the vocabulary, added tokens and padding only)
     * and the packages were unusable. Both implementations now give the same largest id.
     */
    @Test
    void postProcessorSpecialTokensCountTowardsTheLargestId(@TempDir Path dir) throws Exception {
        String tiny = TinyTokenizers.wordPieceJson();
        assertThat(tiny).contains("\"ids\":[2]");
        Path template = dir.resolve("template.json");
        Files.writeString(template, tiny.replace("\"ids\":[2]", "\"ids\":[5000]"));
        assertThat(TokenizerJson.scan(template).maxId()).isEqualTo(TokenizerJson.read(template).maxId()).isEqualTo(5000);
        try (Tokenizer java = Tokenizer.loadPureJava(template); Tokenizer reference = NativeTokenizer.load(template)) {
            assertThat(java.maxTokenId()).isEqualTo(reference.maxTokenId()).isEqualTo(5000);
            assertThat(reference.encode("hello", 8).ids()[0]).isEqualTo(5000); // what the model would be fed
        }
        String vocab = "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"a\",\"vocab\":{\"a\":0,\"b\":1}}";
        Path bert = dir.resolve("bert.json");
        Files.writeString(bert, "{\"post_processor\":{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",700],\"cls\":"
                + "[\"[CLS]\",600]}," + vocab + "}");
        assertThat(TokenizerJson.scan(bert).maxId()).isEqualTo(TokenizerJson.read(bert).maxId()).isEqualTo(700);
        // a pair-only special token counts too, and so do the processors of a Sequence (native only)
        Path sequence = dir.resolve("sequence.json");
        Files.writeString(sequence, "{\"post_processor\":{\"type\":\"Sequence\",\"processors\":[{\"type\":\"ByteLevel\"},"
                + "{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
                + "\"special_tokens\":{\"[X]\":{\"id\":\"[X]\",\"ids\":[42],\"tokens\":[\"[X]\"]}}}]}," + vocab + "}");
        assertThat(TokenizerJson.scan(sequence).maxId()).isEqualTo(42);
    }

    /** Negative ids (vocabulary, added tokens, padding, special tokens) are refused by both, in the same words. */
    @Test
    void negativeIdsAreRefusedByBothImplementations(@TempDir Path dir) throws Exception {
        String tiny = TinyTokenizers.wordPieceJson();
        java.util.Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put(tiny.replace("\"padding\":null", "\"padding\":{\"pad_id\":-1,\"pad_token\":\"[PAD]\"}"),
                "padding.pad_id is -1: token ids are 0 or more");
        bad.put(tiny.replace("\"ids\":[2]", "\"ids\":[-2]"), "post_processor special token '[CLS]' id is -2: token ids"
                + " are 0 or more");
        bad.put(tiny.replace("{\"id\":4,", "{\"id\":-4,"), "added token id for '");
        bad.put(tiny.replace("\"hello\":", "\"hello\":-7,\"unused\":"), "vocab id for 'hello' is -7: token ids are 0"
                + " or more");
        int i = 0;
        for (java.util.Map.Entry<String, String> e : bad.entrySet()) {
            assertThat(e.getKey()).as(e.getValue()).isNotEqualTo(tiny);
            Path f = dir.resolve("neg" + i++ + ".json");
            Files.writeString(f, e.getKey());
            assertThatThrownBy(() -> Tokenizer.loadPureJava(f)).as(e.getValue()).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining(e.getValue());
            assertThatThrownBy(() -> NativeTokenizer.load(f)).as(e.getValue()).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining(e.getValue());
        }
    }
}

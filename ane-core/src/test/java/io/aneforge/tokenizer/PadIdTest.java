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
}

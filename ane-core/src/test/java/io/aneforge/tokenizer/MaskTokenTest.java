package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link Tokenizer#maskToken}: the streaming read the native tokenizer takes it from and the tree the pure-Java
 * tokenizers parse give the mask token {@code predict} shows (a special added token first), in any field order.
 */
class MaskTokenTest {
    @TempDir
    Path dir;

    @Test
    void bothImplementationsFindTheSameMaskToken() throws Exception {
        Path miniLm = Files.write(dir.resolve("minilm.json"), MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE));
        assertThat(maskToken(miniLm)).contains(new MaskToken("[MASK]", 103));
        Path bert = Files.writeString(dir.resolve("bert.json"), TinyTokenizers.wordPieceJson());
        assertThat(maskToken(bert)).contains(new MaskToken("[MASK]", TinyTokenizers.wordPieceVocab().indexOf("[MASK]")));
        // all-mpnet-base-v2's form: BERT's [MASK] stays an ordinary vocabulary entry, <mask> is the special added one
        Path mpnet = Files.writeString(dir.resolve("mpnet.json"), TinyTokenizers.mpnetJson());
        assertThat(maskToken(mpnet)).contains(new MaskToken("<mask>", TinyTokenizers.mpnetVocab().indexOf("<mask>")));
        // GPT-2 and a SentencePiece file without one
        assertThat(maskToken(Files.writeString(dir.resolve("gpt2.json"), TinyTokenizers.byteLevelBpeJson()))).isEmpty();
        assertThat(maskToken(Files.writeString(dir.resolve("unigram.json"), TinyTokenizers.unigramJson()))).isEmpty();
    }

    /**
     * Hand-made files read by the streaming pass and the tree alike: the added tokens before the vocabulary (as Hugging
     * Face writes them) still take their ids over from it, a special added token wins over a vocabulary entry, and
     * without one the first of [MASK], &lt;mask&gt; among every token serves.
     */
    @Test
    void theStreamingReadAndTheTreeAgreeInAnyFieldOrder() throws Exception {
        String[] files = {
                // added_tokens first: the special <mask> wins over the vocabulary's [MASK]
                "{\"added_tokens\":[{\"id\":5,\"content\":\"<mask>\",\"special\":true}],"
                        + "\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[MASK]\":1,\"a\":0,\"<mask>\":5}}}",
                // no special one: [MASK] before <mask>, whatever the ids
                "{\"added_tokens\":[{\"id\":3,\"content\":\"<mask>\",\"special\":false}],"
                        + "\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0,\"[MASK]\":4,\"<mask>\":3}}}",
                // an added token takes over the id of the vocabulary's [MASK], even read before it
                "{\"added_tokens\":[{\"id\":1,\"content\":\"[CLS]\",\"special\":true}],"
                        + "\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0,\"[MASK]\":1}}}",
                // a Unigram vocabulary: ids are indices
                "{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"<s>\",0.0],[\"a\",-1.0],[\"<mask>\",0.0]]},"
                        + "\"added_tokens\":[{\"id\":0,\"content\":\"<s>\",\"special\":true}]}"};
        Object[] expected = {new MaskToken("<mask>", 5), new MaskToken("[MASK]", 4), null, new MaskToken("<mask>", 2)};
        JsonMapper json = JsonMapper.builder().build();
        for (int i = 0; i < files.length; i++) {
            Path f = Files.writeString(dir.resolve("edge" + i + ".json"), files[i]);
            Optional<MaskToken> want = Optional.ofNullable((MaskToken) expected[i]);
            assertThat(TokenizerJson.scan(f).maskToken()).as(files[i]).isEqualTo(want);
            assertThat(MaskToken.of(json.readTree(files[i]))).as(files[i]).isEqualTo(want);
        }
    }

    /** The native tokenizer's (when its library loads here) and the pure-Java one's, which must agree. */
    private static Optional<MaskToken> maskToken(Path file) throws Exception {
        try (Tokenizer java = Tokenizer.loadPureJava(file)) {
            if (NativeTokenizer.isAvailable()) {
                try (Tokenizer rust = NativeTokenizer.load(file)) {
                    assertThat(rust.maskToken()).as(file.toString()).isEqualTo(java.maskToken());
                }
            }
            return java.maskToken();
        }
    }
}

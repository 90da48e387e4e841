package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The golden data of every model that is not a masked LM stays byte for byte what it was before masked LMs' samples
 * carried mask tokens ({@link MaskedSamples}): the SHA-256 of the golden inputs and stored outputs ({@link
 * Golden#sampleInputs}, {@link Golden#fullLength}, {@link HeldPositions#forStorage}: what {@code convert} and the
 * converter worker store) of an encoder, the same encoder on sentence pairs, a sequence classifier and GPT-2, pinned
 * from the release before that change, and of all-MiniLM-L6-v2's inputs at the default length.
 */
class UnmaskedGoldenBytesTest {
    @TempDir
    Path dir;

    @Test
    void encodersClassifiersAndGpt2KeepTheirGoldenBytes() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 7);
        ImportedModel encoder = ModelImporter.importWeights(ModelSnapshot.of(bert, null));
        Path classifier = TaskHeadConversionTest.checkpoint(dir.resolve("classifier"), "bert", "SequenceClassification",
                List.of("NEGATIVE", "POSITIVE"), 2, 11);
        Path gpt2 = TinyModels.gpt2(dir.resolve("gpt2"), 3);
        Path minilm = MiniLmSnapshot.write(dir.resolve("minilm"));
        ImportedModel miniLm = ModelImporter.importWeights(ModelSnapshot.of(minilm, null));
        String miniLmInputs;
        try (Tokenizer tok = Tokenizer.load(minilm.resolve("tokenizer.json"))) {
            miniLmInputs = sha256(Golden.samples(Golden.sampleInputs(miniLm, tok, 32, 128)));
        }
        assertThat(List.of(digests(encoder, bert, 16), digests(encoder.withTokenTypeInput(), bert, 16),
                digests(ModelImporter.importWeights(ModelSnapshot.of(classifier, null)), classifier, 16),
                digests(ModelImporter.importWeights(ModelSnapshot.of(gpt2, null)), gpt2, 16), miniLmInputs))
                .containsExactly(
                        "caa0f6af79e9047ad37aa3b75512fea0d26e5d4372c0a2981421e4668d1f4873"
                                + " d894c7527a0ece86188f75b46478bea210126a3e792ce5fee391d86498b7bea9",
                        "a038ff992de1f9fdd0a90ba63b3f3d9fc6b69df644798c15d230aa618ddc89b7"
                                + " 0b8953a933703854eeb65ee1e86ea3b76ecb32e155db3a2f119aeebd1e771220",
                        "caa0f6af79e9047ad37aa3b75512fea0d26e5d4372c0a2981421e4668d1f4873"
                                + " c85cd56baa633738c60803eff1ee0110a12ca07717f79e2c5b959723c7f276d8",
                        "46d4d7efc53d943fd102b18440f86537902b20ca8d793c94b581b8e419e77c97"
                                + " ff671f25f9da4fe9b16fb2081714f5746947266771802542f357e792f0ee6e94",
                        "61bf5cd0e4485deb6d4d4774c2dfcd770bef39f6caf4ab3f1733a30bca76ad6d");
    }

    /** "inputs-sha256 outputs-sha256" of the model's golden data on the 32 fixed samples at {@code seqLen}. */
    private static String digests(ImportedModel model, Path snapshot, int seqLen) throws Exception {
        try (Tokenizer tok = Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, tok, 32, seqLen);
            GoldenOutputs inputs = Golden.samples(in);
            GoldenOutputs outputs = HeldPositions.forStorage(inputs, Golden.fullLength(model, in,
                    ProgramEvaluator.runtime(1)));
            return sha256(inputs) + " " + sha256(outputs);
        }
    }

    private static String sha256(GoldenOutputs g) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(g, out);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(out.toByteArray()));
    }
}

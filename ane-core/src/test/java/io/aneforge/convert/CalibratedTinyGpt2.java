package io.aneforge.convert;

import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The tiny random GPT-2 (seed 5) the calibrated-variant tests build at {@link #SEQ} tokens: its calibration statistics
 * and one input to compare the layouts' logits on.
 */
record CalibratedTinyGpt2(ImportedModel model, Calibration calibration, Map<String, FloatTensor> input) {
    static final int SEQ = 12;

    /** Writes the tiny GPT-2's snapshot under {@code dir}, imports it and measures its statistics. */
    static CalibratedTinyGpt2 importInto(Path dir) throws IOException {
        Path snapshot = TinyModels.gpt2(dir.resolve("gpt2"), 5);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        try (Tokenizer tok = Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            return new CalibratedTinyGpt2(model, Calibration.measure(model, tok, SEQ),
                    Golden.inputs(tok, List.of("The quick brown fox jumps over the lazy dog."), SEQ).get(0));
        }
    }
}

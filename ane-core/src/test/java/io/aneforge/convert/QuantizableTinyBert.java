package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * The tiny random BERT the calibrated-variant tests (W8A8, GPTQ) convert: seed 21 with an FFN width of 128, so its
 * FFN projections are big enough (more than 2048 elements) to be quantized. Its snapshot stays at hand for the
 * tokenizer the calibration and the golden outputs read.
 */
record QuantizableTinyBert(Path snapshot, ImportedModel model) {

    /** Writes the tiny BERT's snapshot under {@code dir} and imports its weights. */
    static QuantizableTinyBert importInto(Path dir) throws IOException {
        Path snapshot = TinyModels.bert(dir.resolve("bert"), 21, "", 128);
        return new QuantizableTinyBert(snapshot, ModelImporter.importWeights(ModelSnapshot.of(snapshot, null)));
    }

    /** Calibration statistics measured on the built-in texts at {@code seq} tokens, as a conversion would. */
    Calibration measure(int seq) {
        try (Tokenizer tok = tokenizer()) {
            return Calibration.measure(model, tok, seq);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The golden outputs of {@code samples} (the FP32 reference graph) and the inputs that produced them. */
    GoldenRun golden(List<String> samples, int seq) throws IOException {
        try (Tokenizer tok = tokenizer()) {
            return new GoldenRun(Golden.compute(model, tok, samples, seq), Golden.inputs(tok, samples, seq));
        }
    }

    /** The tiny BERT's own tokenizer, to be closed by the caller. */
    Tokenizer tokenizer() throws IOException {
        return Tokenizer.load(snapshot.resolve("tokenizer.json"));
    }

    /** What {@link #golden} computed: the reference outputs and, in the same order, the inputs to run a variant on. */
    record GoldenRun(GoldenOutputs outputs, List<Map<String, FloatTensor>> inputs) {}

    /**
     * Checks that {@code build}, a calibrated variant built without statistics, fails with the error that says the
     * variant needs them and which class measures them.
     */
    static void assertAsksForCalibrationStatistics(ThrowingCallable build) {
        assertThatThrownBy(build)
                .isInstanceOf(ConversionException.class)
                .hasMessageContaining("needs calibration statistics")
                .hasMessageContaining("io.aneforge.convert.Calibration");
    }
}

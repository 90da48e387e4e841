package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.Fidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.mil.Target;
import io.aneforge.model.BertConfig;
import io.aneforge.model.ExpectedTensor;
import io.aneforge.model.ImportedModel;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Long sequences: query-chunked attention is exact and lowers the peak intermediate memory (CONVERTER.md §2). */
class ChunkedAttentionTest {
    static final int SEQ = 2048;

    /** A small random BERT with 2048 positions (1 layer, hidden 16, 2 heads), built in memory. */
    static ImportedModel longBert() {
        BertConfig c = new BertConfig("bert", 64, 16, 1, 2, 32, SEQ, 2, 1e-12, "gelu", 0);
        SplittableRandom r = new SplittableRandom(9);
        Map<String, FloatTensor> w = new LinkedHashMap<>();
        for (ExpectedTensor t : c.expectedTensors()) {
            float[] v = new float[(int) FloatTensor.elementCount(t.shape())];
            boolean gamma = t.name().endsWith("LayerNorm.weight");
            for (int i = 0; i < v.length; i++) {
                v[i] = gamma ? 1f + (float) (r.nextDouble() * 0.2 - 0.1) : (float) (r.nextDouble() * 0.4 - 0.2);
            }
            w.put(t.name(), new FloatTensor(t.shape(), v));
        }
        return new ImportedModel(c, w, null);
    }

    record Run(FloatTensor out, long measuredPeak) {
    }

    /** Runs on the reference runtime (fast kernels), which measures the peak live intermediate bytes itself. */
    static Run run(io.aneforge.mil.Program p, Map<String, FloatTensor> in) {
        try (var m = io.aneforge.runtime.reference.ReferenceRuntime.load(p, new io.aneforge.runtime.RuntimeOptions("cpuOnly", false, 0), true)) {
            FloatTensor out = m.predict(in).get("last_hidden_state");
            return new Run(out, m.lastPeakIntermediateBytes());
        }
    }

    static Map<String, FloatTensor> inputs(int real) {
        SplittableRandom r = new SplittableRandom(3);
        float[] ids = new float[SEQ];
        float[] mask = new float[SEQ];
        for (int i = 0; i < SEQ; i++) {
            ids[i] = i < real ? r.nextInt(64) : 0;
            mask[i] = i < real ? 1 : 0;
        }
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("input_ids", new FloatTensor(new int[] {1, SEQ}, ids));
        m.put("attention_mask", new FloatTensor(new int[] {1, SEQ}, mask));
        return m;
    }

    /**
     * The score tensors shrink by exactly Sq / chunk; everything else live at the peak (residual,
     * per-head q/k/v slices) stays, so the total drop is a little below Sq / chunk: 512-query
     * chunks at 2048 tokens give ~3.8x, 256-query chunks ~7x. Both must be exact.
     */
    @Test
    void chunkedAttentionIsExactAndLowersPeakMemory() {
        ImportedModel model = longBert();
        BuiltVariant whole = VariantConverter.build(model, new VariantSpec("M4", Target.IOS18, Layout.ANE, Precision.FP32, SEQ, 0));
        BuiltVariant chunk512 = VariantConverter.build(model, VariantSpec.of("M4", Target.IOS18, Layout.ANE, Precision.FP32, SEQ));
        BuiltVariant chunk256 = VariantConverter.build(model, new VariantSpec("M4", Target.IOS18, Layout.ANE, Precision.FP32, SEQ, 256));
        assertThat(chunk512.spec().attentionChunk()).isEqualTo(512);
        Map<String, FloatTensor> in = inputs(1900);
        Run a = run(whole.program(), in);
        for (BuiltVariant chunked : new BuiltVariant[] {chunk512, chunk256}) {
            Run b = run(chunked.program(), in);
            FidelityReport f = Fidelity.compare(a.out, b.out);
            double drop = (double) whole.peakIntermediateBytes() / chunked.peakIntermediateBytes();
            double measuredDrop = (double) a.measuredPeak / b.measuredPeak;
            System.out.printf("seq %d: peak intermediate %d bytes unchunked, %d bytes with %d-query chunks (%.2fx; runtime measured"
                            + " %d -> %d, %.2fx); max abs %.3g%n", SEQ, whole.peakIntermediateBytes(), chunked.peakIntermediateBytes(),
                    chunked.spec().attentionChunk(), drop, a.measuredPeak, b.measuredPeak, measuredDrop, f.maxAbsError());
            assertThat(f.maxAbsError()).isLessThanOrEqualTo(1e-4);
            double bound = (double) SEQ / chunked.spec().attentionChunk();
            for (double d : new double[] {drop, measuredDrop}) {
                assertThat(d).isLessThan(bound).isGreaterThanOrEqualTo(chunked.spec().attentionChunk() == 256 ? 4.0 : 0.9 * bound);
            }
        }
        // the (1, Sk, 1, Sq) fp32 score tensor alone is 16 MiB per head unchunked
        assertThat(whole.peakIntermediateBytes()).isGreaterThanOrEqualTo(16L << 20);
    }

    /** A chunk need not divide the length (the last chunk is shorter): 640 at 2048 is 640, 640, 640, 128, and exact. */
    @Test
    void aChunkThatDoesNotDivideTheLengthIsExact() {
        ImportedModel model = longBert();
        BuiltVariant whole = VariantConverter.build(model, new VariantSpec("M4", Target.IOS18, Layout.ANE, Precision.FP32, SEQ, 0));
        BuiltVariant chunk640 = VariantConverter.build(model, new VariantSpec("M4", Target.IOS18, Layout.ANE, Precision.FP32, SEQ, 640));
        Map<String, FloatTensor> in = inputs(1900);
        assertThat(Fidelity.compare(run(whole.program(), in).out, run(chunk640.program(), in).out).maxAbsError())
                .isLessThanOrEqualTo(1e-4);
    }
}

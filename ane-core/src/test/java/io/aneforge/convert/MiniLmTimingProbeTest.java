package io.aneforge.convert;

import io.aneforge.eval.Fidelity;
import io.aneforge.mil.Target;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.testsupport.models.MiniLmSnapshot;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MiniLmTimingProbeTest {
    @TempDir
    Path dir;

    @Test
    void probe() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("m"));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json")); OnnxReference ort = new OnnxReference(snap.resolve("onnx/model.onnx"))) {
            var in = Golden.inputs(tok, Samples.fixed().subList(2, 3), 128).get(0);
            for (Layout l : Layout.values()) {
                BuiltVariant v = VariantConverter.build(model, new VariantSpec("M4", Target.IOS18, l, Precision.FP32, 128, 0));
                long t0 = System.nanoTime();
                var out = ProgramEvaluator.reference().run(v.program(), in);
                long t1 = System.nanoTime();
                var ref = ort.lastHiddenState(in);
                System.out.println(l + " eval ms " + (t1 - t0) / 1e6 + " ops " + v.program().operations().size() + " peak " + v.peakIntermediateBytes()
                        + " " + Fidelity.compare(ref, out.get("last_hidden_state")));
            }
        }
    }
}

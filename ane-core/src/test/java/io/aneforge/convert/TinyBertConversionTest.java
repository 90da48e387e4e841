package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.mil.Target;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TinyBertConversionTest {
    @TempDir
    Path dir;

    @Test
    void everyLayoutAndPrecisionMatchesTheGolden() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("bert"), 11);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<String> samples = Samples.fixed().subList(0, 4);
        int seq = 16;
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            GoldenOutputs golden = Golden.compute(model, tok, samples, seq);
            assertThat(golden.outputNames()).containsExactly("last_hidden_state", "pooler_output");
            var inputs = Golden.inputs(tok, samples, seq);
            for (Layout layout : Layout.values()) {
                for (String p : List.of("fp32", "fp16", "int8-channel", "int8-block32", "int4-block32")) {
                    Precision precision = Precision.parse(p);
                    VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, precision, seq, 0);
                    BuiltVariant v = VariantConverter.build(model, spec);
                    Map<String, FidelityReport> f = VariantFidelity.of(golden, Golden.run(v.program(), inputs, ProgramEvaluator.reference()));
                    System.out.printf("%-8s %-14s %s%n", layout.id(), p, f.get("last_hidden_state"));
                }
            }
        }
    }
}

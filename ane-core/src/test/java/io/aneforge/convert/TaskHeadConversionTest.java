package io.aneforge.convert;

import static io.aneforge.convert.PlainLoops.activation;
import static io.aneforge.convert.PlainLoops.attention;
import static io.aneforge.convert.PlainLoops.decode;
import static io.aneforge.convert.PlainLoops.embeddings;
import static io.aneforge.convert.PlainLoops.dense;
import static io.aneforge.convert.PlainLoops.ids;
import static io.aneforge.convert.PlainLoops.norm;
import static io.aneforge.convert.PlainLoops.relu;
import static io.aneforge.convert.PlainLoops.tanh;
import static io.aneforge.convert.PlainLoops.tensor;
import static io.aneforge.convert.RandomWeights.add;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.Fidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.model.ArchitectureConfigs;
import io.aneforge.model.ExpectedTensor;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.MissingHeadTensorsException;
import io.aneforge.model.ModelImportException;
import io.aneforge.model.ModelImporter;
import io.aneforge.model.TaskHead;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.RawSafetensors;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task heads (tiny random checkpoints written as the Hub stores them): for each family and head, both layouts' written
 * packages, run on the reference runtime, agree with a plain-loop forward pass written here from Hugging Face's
 * modeling code; a config whose labels disagree with the classifier is refused.
 */
class TaskHeadConversionTest {
    static final int SEQ = 12;
    static final int REAL = 9; // the last 3 positions are padding
    static final int HIDDEN = 32;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int FFN = 64;
    static final int VOCAB = io.aneforge.testsupport.models.TinyTokenizers.wordPieceVocab().size();
    static final int POSITIONS = 64;
    static final List<String> LABELS = List.of("NEGATIVE", "NEUTRAL", "POSITIVE");

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"bert,SequenceClassification", "roberta,SequenceClassification", "distilbert,SequenceClassification",
        "bert,TokenClassification", "roberta,TokenClassification", "distilbert,TokenClassification",
        "bert,QuestionAnswering", "roberta,QuestionAnswering", "distilbert,QuestionAnswering",
        "bert,MaskedLM", "roberta,MaskedLM", "distilbert,MaskedLM", "bert,PreTraining"})
    void bothLayoutsMatchAPlainLoopHead(String family, String task) throws Exception {
        boolean qa = task.equals("QuestionAnswering");
        boolean mlm = task.equals("MaskedLM") || task.equals("PreTraining");
        Path snapshot = checkpoint(dir.resolve(family + task), family, task, qa || mlm ? List.of() : LABELS,
                qa ? 2 : mlm ? VOCAB : LABELS.size(), 7);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        TaskHead head = model.head();
        assertThat(head).isNotNull();
        assertThat(model.droppedHeads()).isEmpty();
        Map<String, FloatTensor> in = inputs();
        Map<String, FloatTensor> expected = Plain.forward(model, ids(in), REAL);
        for (Layout layout : Layout.values()) {
            VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP32, SEQ, 0);
            ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve(family + task + spec.id()));
            Program read = MlPackage.read(cv.packageDir());
            assertThat(read.outputs()).extracting(v -> v.name()).containsExactlyElementsOf(head.outputs());
            assertThat(read.metadata()).containsEntry("aneforge.task", head.kind().id());
            Map<String, FloatTensor> got = ProgramEvaluator.runtime().run(read, in);
            for (String out : head.outputs()) {
                FloatTensor want = expected.get(out);
                assertThat(got.get(out).shape()).as(layout + " " + out).containsExactly(want.shape());
                FidelityReport r = Fidelity.compareLogits(want, got.get(out));
                System.out.printf(Locale.ROOT, "%s %s %s %s: %s%n", family, task, layout, out, r);
                assertThat(r.cosineMin()).as(layout + " " + out).isGreaterThanOrEqualTo(0.9999);
                assertThat(r.top1Agreement()).as(layout + " " + out).isEqualTo(1.0);
            }
            if (head.kind() != TaskHead.Kind.QUESTION_ANSWERING && !head.kind().predictsTokens()) {
                assertThat(read.metadata()).containsEntry("aneforge.id2label",
                        "{\"0\": \"NEGATIVE\", \"1\": \"NEUTRAL\", \"2\": \"POSITIVE\"}");
            }
        }
        // --head none: the base model again, the head named as dropped
        ImportedModel base = model.withoutHead();
        assertThat(base.head()).isNull();
        assertThat(base.droppedHeads()).containsExactlyElementsOf(head.modules(model.config().modelType()));
        Program p = VariantConverter.build(base, new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP32,
                SEQ, 0)).program();
        assertThat(p.outputs().get(0).name()).isEqualTo("last_hidden_state");
        assertThat(p.metadata()).doesNotContainKey("aneforge.task");
    }

    /**
     * The masked-LM head's activation and LayerNorm eps come from config.json as transformers reads them: BERT's
     * {@code hidden_act} and {@code layer_norm_eps}, RoBERTa's exact gelu whatever {@code hidden_act} says (its encoder
     * still uses {@code hidden_act}), DistilBERT's {@code activation} with eps 1e-12. The written package agrees with
     * the plain loops that far more closely than with the plain loops given the wrong choice (the constant gelu for
     * BERT, {@code hidden_act} for RoBERTa's head, eps 1e-12 for BERT's head): a wrong branch would fail here.
     */
    @ParameterizedTest
    @CsvSource({"bert,relu,0.1", "bert,gelu_new,0.1", "roberta,relu,0.1", "roberta,gelu_new,1e-5", "distilbert,relu,"})
    void maskedLmHeadsReadTheConfigsActivationAndEps(String family, String act, Double eps) throws Exception {
        Path snapshot = checkpoint(dir.resolve(family + act), family, "MaskedLM", List.of(), VOCAB, 11);
        String config = Files.readString(snapshot.resolve("config.json"));
        config = family.equals("distilbert") ? config.replace("\"activation\": \"gelu\"", "\"activation\": \"" + act + "\"")
                : config.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"" + act + "\"")
                        .replace("\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": " + eps);
        Files.writeString(snapshot.resolve("config.json"), config);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        Map<String, FloatTensor> in = inputs();
        int[] ids = ids(in);
        int[] types = new int[ids.length];
        FloatTensor right = Plain.forward(model, ids, types, REAL).get("logits");
        VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP32, SEQ, 0);
        ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve(family + act + "-pkg"));
        FloatTensor got = ProgramEvaluator.runtime().run(MlPackage.read(cv.packageDir()), in).get("logits");
        double error = maxDiff(right, got, REAL);
        // the wrong readings: an activation the head must not use, and (BERT, RoBERTa) eps 1e-12 in the head
        String wrongAct = switch (family) {
            case "roberta" -> act; // hidden_act in RoBERTa's head
            case "bert" -> "gelu"; // the constant instead of hidden_act
            default -> "gelu";
        };
        double actGap = maxDiff(right, Plain.forward(model, ids, types, REAL, wrongAct, null).get("logits"), REAL);
        System.out.printf(Locale.ROOT, "%s %s %s: error %.3g, wrong activation %.3g%n", family, act, eps, error, actGap);
        assertThat(actGap).as("a wrong activation").isGreaterThan(20 * error);
        if (eps != null && eps > 1e-3) {
            double epsGap = maxDiff(right, Plain.forward(model, ids, types, REAL, null, 1e-12).get("logits"), REAL);
            System.out.printf(Locale.ROOT, "  wrong eps %.3g%n", epsGap);
            assertThat(epsGap).as("eps 1e-12 in the head").isGreaterThan(20 * error);
        }
    }

    /** The largest absolute difference of two (1, S, V) logits on the first {@code real} tokens. */
    private static double maxDiff(FloatTensor a, FloatTensor b, int real) {
        int v = a.shape()[2];
        double max = 0;
        for (int i = 0; i < real * v; i++) {
            max = Math.max(max, Math.abs(a.data()[i] - b.data()[i]));
        }
        return max;
    }

    /**
     * The fidelity path (sample prefix, real tokens only, golden data at full length) handles every head's outputs:
     * per-token logits (1, S, L) and question answering's (1, S) logits are cut to the real tokens, a classifier's
     * (1, L) is whole; an FP16 variant then agrees with the FP32 golden outputs, and the prefix run of the FP32 graph
     * with the whole one on the real tokens.
     */
    @ParameterizedTest
    @CsvSource({"bert,SequenceClassification", "distilbert,TokenClassification", "roberta,QuestionAnswering",
        "bert,PreTraining"})
    void fidelityOfEveryHeadOnTheRealTokens(String family, String task) throws Exception {
        boolean qa = task.equals("QuestionAnswering");
        boolean pre = task.equals("PreTraining");
        Path snapshot = checkpoint(dir.resolve(family + task), family, task, qa || pre ? List.of() : LABELS,
                qa ? 2 : pre ? VOCAB : LABELS.size(), 5);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        int seq = 32;
        try (io.aneforge.tokenizer.Tokenizer tok = io.aneforge.tokenizer.Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> full = Golden.inputs(tok, Samples.fixed().subList(0, 4), seq);
            SamplePrefix prefix = SamplePrefix.of(full);
            var golden = Golden.compute(model, prefix, ProgramEvaluator.runtime());
            var whole = Golden.run(VariantConverter.build(model, Golden.referenceSpec(seq)).program(), full,
                    ProgramEvaluator.runtime());
            for (int i = 0; i < full.size(); i++) {
                for (String out : model.head().outputs()) {
                    FloatTensor g = golden.samples().get(i).outputs().get(out);
                    FloatTensor w = whole.get(i).get(out);
                    int real = (int) java.util.Arrays.stream(toInts(full.get(i).get("attention_mask"))).filter(m -> m != 0).count();
                    // per-token outputs on the real tokens; a classifier's (1, L) and the next-sentence (1, 2) whole
                    boolean perToken = io.aneforge.graph.Graphs.perToken(out, w.shape(), seq);
                    int n = perToken ? real * (w.size() / seq) : w.size();
                    assertThat(java.util.Arrays.copyOf(g.data(), n)).as(out + " sample " + i)
                            .containsExactly(java.util.Arrays.copyOf(w.data(), n), org.assertj.core.data.Offset.offset(1e-4f));
                }
            }
            for (Layout layout : Layout.values()) {
                VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP16, seq, 0);
                var outs = prefix.runRealTokens(VariantConverter.build(model, spec).program(), ProgramEvaluator.runtime());
                Map<String, FidelityReport> f = VariantFidelity.realTokens(golden, outs, prefix.inputs());
                assertThat(f).containsOnlyKeys(model.head().outputs());
                f.forEach((name, r) -> assertThat(r.cosineMean()).as(spec.id() + " " + name).isGreaterThanOrEqualTo(0.999));
                if (pre) {
                    // two outputs of different shapes: every real token's vocabulary row, and one (1, 2) per sample
                    int realTokens = prefix.inputs().stream().mapToInt(in -> (int) java.util.Arrays.stream(
                            toInts(in.get("attention_mask"))).filter(m -> m != 0).count()).sum();
                    assertThat(f.get(TaskHead.PREDICTION_LOGITS).positions()).isEqualTo(realTokens);
                    assertThat(f.get(TaskHead.SEQ_RELATIONSHIP_LOGITS).positions()).isEqualTo(full.size());
                    assertThat(f.get(TaskHead.PREDICTION_LOGITS).top1Agreement()).isNotNull();
                    assertThat(f.get(TaskHead.SEQ_RELATIONSHIP_LOGITS).top1Agreement()).isEqualTo(1.0);
                }
            }
        }
    }

    /**
     * {@code token_type_ids}: the packages take the segment of each token and gather its row (a sentence pair's
     * second text is segment 1), agreeing with the plain loop on a pair in both layouts; all zeros give what the
     * program without the input gives (type row 0 folded into the positions).
     */
    @Test
    void tokenTypeIdsSelectEachTokensSegmentRow() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(checkpoint(dir.resolve("pair"), "bert",
                "SequenceClassification", LABELS, 3, 13), null)).withTokenTypeInput();
        Map<String, FloatTensor> in = inputs();
        int[] types = new int[SEQ];
        float[] typeFloats = new float[SEQ];
        for (int i = 5; i < REAL; i++) {
            types[i] = 1; // [CLS] a a a [SEP] | b b b [SEP]
            typeFloats[i] = 1;
        }
        Map<String, FloatTensor> pair = new LinkedHashMap<>(in);
        pair.put("token_type_ids", new FloatTensor(new int[] {1, SEQ}, typeFloats));
        Map<String, FloatTensor> single = new LinkedHashMap<>(in);
        single.put("token_type_ids", new FloatTensor(new int[] {1, SEQ}, new float[SEQ]));
        FloatTensor expected = Plain.forward(model, ids(in), types, REAL).get("logits");
        FloatTensor segment0 = Plain.forward(model, ids(in), new int[SEQ], REAL).get("logits");
        assertThat(Fidelity.compareLogits(expected, segment0).maxAbsError()).as("segments matter").isGreaterThan(1e-3);
        ImportedModel folded = ModelImporter.importWeights(ModelSnapshot.of(dir.resolve("pair"), null));
        for (Layout layout : Layout.values()) {
            VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP32, SEQ, 0);
            Program read = MlPackage.read(VariantConverter.convert(model, spec, dir.resolve("pair-" + spec.id())).packageDir());
            assertThat(read.inputs()).extracting(v -> v.name()).containsExactly("input_ids", "attention_mask",
                    "token_type_ids");
            assertThat(read.inputs().get(2).shape()).containsExactly(1, SEQ);
            FidelityReport r = Fidelity.compareLogits(expected, ProgramEvaluator.runtime().run(read, pair).get("logits"));
            assertThat(r.cosineMin()).as(layout.name()).isGreaterThanOrEqualTo(0.9999);
            assertThat(r.top1Agreement()).isEqualTo(1.0);
            FloatTensor zeros = ProgramEvaluator.runtime().run(read, single).get("logits");
            FloatTensor without = ProgramEvaluator.runtime().run(VariantConverter.build(folded, spec).program(), in)
                    .get("logits");
            assertThat(Fidelity.compareLogits(without, zeros).maxAbsError()).as(layout.name()).isLessThan(1e-5);
            assertThat(Fidelity.compareLogits(segment0, zeros).cosineMin()).isGreaterThanOrEqualTo(0.9999);
        }
        // the fidelity path (sample prefix) feeds zeros: Golden.inputs of such a model has the third input
        try (io.aneforge.tokenizer.Tokenizer tok = io.aneforge.tokenizer.Tokenizer.load(dir.resolve("pair/tokenizer.json"))) {
            // a real pair from the tokenizer's pair template, through the written package
            io.aneforge.tokenizer.Encoding enc = tok.encodePair("the cat sat", "a dog ran away", SEQ);
            assertThat(enc.typeIds()).contains(1);
            FloatTensor want = Plain.forward(model, enc.ids(), enc.typeIds(), enc.length()).get("logits");
            Program p = MlPackage.read(dir.resolve("pair-" + new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE,
                    Precision.FP32, SEQ, 0).id()));
            FidelityReport r = Fidelity.compareLogits(want, ProgramEvaluator.runtime().run(p, Golden.inputs(enc, true))
                    .get("logits"));
            assertThat(r.cosineMin()).isGreaterThanOrEqualTo(0.9999);
            assertThat(r.top1Agreement()).isEqualTo(1.0);
            List<Map<String, FloatTensor>> full = Golden.inputs(model, tok, Samples.fixed().subList(0, 3), 32);
            assertThat(full.get(0)).containsKey("token_type_ids");
            SamplePrefix prefix = SamplePrefix.of(full);
            var golden = Golden.compute(model, prefix, ProgramEvaluator.runtime());
            var outs = prefix.runRealTokens(VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18,
                    Layout.ANE, Precision.FP16, 32, 0)).program(), ProgramEvaluator.runtime());
            assertThat(VariantFidelity.realTokens(golden, outs, prefix.inputs()).get("logits").cosineMean())
                    .isGreaterThanOrEqualTo(0.999);
        }
        for (String family : List.of("roberta", "distilbert")) {
            ImportedModel one = ModelImporter.importWeights(ModelSnapshot.of(checkpoint(dir.resolve("one" + family),
                    family, "SequenceClassification", LABELS, 3, 1), null));
            assertThatThrownBy(one::withTokenTypeInput).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("this " + family + " model has " + (family.equals("roberta")
                            ? "one token type (type_vocab_size 1 in config.json)" : "no token types")
                            + ", so there is no second segment to feed: convert it without token types");
        }
    }

    /** GPTQ's calibration runs the FP32 graph of a head model (first-token projections, token types) too. */
    @ParameterizedTest
    @CsvSource({"bert,SequenceClassification", "roberta,QuestionAnswering", "bert,PreTraining"})
    void gptqCalibratesAHeadModel(String family, String task) throws Exception {
        boolean qa = task.equals("QuestionAnswering");
        boolean pre = task.equals("PreTraining");
        Path snapshot = checkpoint(dir.resolve("gptq" + family + task), family, task, qa || pre ? List.of() : LABELS,
                qa ? 2 : pre ? VOCAB : 3, 21);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        if (family.equals("bert")) {
            model = model.withTokenTypeInput();
        }
        try (io.aneforge.tokenizer.Tokenizer tok = io.aneforge.tokenizer.Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            Calibration c = Calibration.measure(model, tok, 16);
            for (Layout layout : Layout.values()) {
                VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.parse("int4-block32-affine-gptq"),
                        16, 0);
                BuiltVariant v = VariantConverter.build(model, spec, io.aneforge.graph.WeightCache.uncached(c));
                assertThat(v.program().outputs()).extracting(o -> o.name()).containsExactlyElementsOf(model.head().outputs());
                assertThat(v.reports()).anyMatch(r -> r.scheme().startsWith("int4"));
            }
        }
    }

    private static TaskHead.Kind head(ImportedModel m) {
        return m.head().kind();
    }

    private static int[] toInts(FloatTensor t) {
        int[] v = new int[t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (int) t.data()[i];
        }
        return v;
    }

    @Test
    void sequenceClassificationShapesFollowTheHub() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(checkpoint(dir.resolve("s"), "bert",
                "SequenceClassification", LABELS, 3, 3), null));
        assertThat(model.head().describe(SEQ)).isEqualTo("sequence classification head (3 labels): logits (1, 3)");
        for (Layout layout : Layout.values()) {
            Program p = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP16,
                    SEQ, 0)).program();
            assertThat(p.outputs()).singleElement().satisfies(o -> {
                assertThat(o.name()).isEqualTo("logits");
                assertThat(o.shape()).containsExactly(1, 3);
                assertThat(o.dtype()).isEqualTo(io.aneforge.mil.DType.FP32);
            });
        }
    }

    @Test
    void labelsThatDisagreeWithTheClassifierAreRefused() throws Exception {
        Path snapshot = checkpoint(dir.resolve("mismatch"), "roberta", "SequenceClassification",
                List.of("NEGATIVE", "POSITIVE"), 3, 9);
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(snapshot, null)))
                .isInstanceOf(ModelImportException.class)
                .hasMessageContaining("the classifier 'classifier.out_proj.weight' has 3 rows (labels), but config.json"
                        + " has 2 labels (id2label {\"0\": \"NEGATIVE\", \"1\": \"POSITIVE\"}): use the config.json saved"
                        + " with these weights, or fix its id2label to 3 labels");
        Files.writeString(snapshot.resolve("config.json"), Files.readString(snapshot.resolve("config.json"))
                .replace("\"id2label\"", "\"num_labels\": 3, \"id2label\""));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(snapshot, null)))
                .isInstanceOf(ModelImportException.class)
                .hasMessageContaining("config field 'num_labels' = 3 disagrees with the 2 labels of 'id2label'");
    }

    @Test
    void aConfigWithoutId2labelHasTransformersDefaultLabels() throws Exception {
        Path snapshot = checkpoint(dir.resolve("nolabels"), "distilbert", "SequenceClassification", List.of(), 2, 4);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        assertThat(model.head().labels()).containsExactly("LABEL_0", "LABEL_1");
    }

    /**
     * A masked-LM checkpoint as bert-base-uncased ships it (BertForMaskedLM with a pooler, the next-sentence head
     * {@code cls.seq_relationship} and a copy of the decoder weight): the decoder is the word embedding table, as
     * transformers ties it, stored once in weight.bin; only the next-sentence head is named as dropped. With
     * {@code tie_word_embeddings: false} the checkpoint's own decoder is computed (and stored).
     */
    @Test
    void maskedLmDecoderIsTheWordTableStoredOnceUnlessUntied() throws Exception {
        java.util.function.BiConsumer<RawSafetensors, SplittableRandom> bertBaseExtras = (st, random) -> {
            add(st, random, "cls.predictions.decoder.weight", false, VOCAB, HIDDEN); // differs: ignored when tied
            add(st, random, "cls.seq_relationship.weight", false, 2, HIDDEN);
            add(st, random, "cls.seq_relationship.bias", false, 2);
            add(st, random, "bert.pooler.dense.weight", false, HIDDEN, HIDDEN);
            add(st, random, "bert.pooler.dense.bias", false, HIDDEN);
        };
        Path tied = checkpoint(dir.resolve("tied"), "bert", "MaskedLM", List.of(), VOCAB, 17, bertBaseExtras);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(tied, null));
        assertThat(model.head().kind()).isEqualTo(TaskHead.Kind.MASKED_LM);
        assertThat(model.head().tiedDecoder()).isTrue();
        assertThat(model.droppedHeads()).containsExactly("cls.seq_relationship");
        assertThat(model.weights()).doesNotContainKey("cls.predictions.decoder.weight");
        Map<String, FloatTensor> in = inputs();
        Map<String, FloatTensor> want = Plain.forward(model, ids(in), REAL);
        VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP32, SEQ, 0);
        long table = (long) VOCAB * HIDDEN * 4;
        long head = ((long) HIDDEN * HIDDEN + 3L * HIDDEN + VOCAB) * 4;
        long base = weightBytes(VariantConverter.convert(model.withoutHead(), spec, dir.resolve("tied-base")));
        ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve("tied-mlm"));
        assertThat(weightBytes(cv) - base).as("the head adds its own weights, not a second table")
                .isLessThan(head + 4096).isLessThan(table);
        FidelityReport r = Fidelity.compareLogits(want.get("logits"),
                ProgramEvaluator.runtime().run(MlPackage.read(cv.packageDir()), in).get("logits"));
        assertThat(r.cosineMin()).isGreaterThanOrEqualTo(0.9999);
        assertThat(r.top1Agreement()).isEqualTo(1.0);

        Path untied = checkpoint(dir.resolve("untied"), "bert", "MaskedLM", List.of(), VOCAB, 17, bertBaseExtras);
        Files.writeString(untied.resolve("config.json"), Files.readString(untied.resolve("config.json"))
                .replace("\"model_type\"", "\"tie_word_embeddings\": false, \"model_type\""));
        ImportedModel own = ModelImporter.importWeights(ModelSnapshot.of(untied, null));
        assertThat(own.head().tiedDecoder()).isFalse();
        assertThat(own.weights()).containsKey("cls.predictions.decoder.weight");
        Map<String, FloatTensor> wantOwn = Plain.forward(own, ids(in), REAL);
        assertThat(Fidelity.compareLogits(want.get("logits"), wantOwn.get("logits")).cosineMin())
                .as("the decoders differ").isLessThan(0.99);
        for (Layout layout : Layout.values()) {
            VariantSpec s = new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP32, SEQ, 0);
            ConvertedVariant c = VariantConverter.convert(own, s, dir.resolve("untied-" + s.id()));
            FidelityReport u = Fidelity.compareLogits(wantOwn.get("logits"),
                    ProgramEvaluator.runtime().run(MlPackage.read(c.packageDir()), in).get("logits"));
            assertThat(u.cosineMin()).as(layout.name()).isGreaterThanOrEqualTo(0.9999);
            assertThat(u.top1Agreement()).isEqualTo(1.0);
            if (layout == Layout.ANE) {
                assertThat(weightBytes(c) - base).as("its own decoder is stored").isGreaterThan(table);
            }
        }
    }

    /**
     * A config naming a head over a checkpoint holding none of its tensors (BertModel's weights, pooler included,
     * under a BertForMaskedLM or BertForSequenceClassification config): by default the base model, the head named as
     * absent; {@code --head fill-mask} asked for by name is refused naming the missing tensors and {@code --head none}.
     */
    @ParameterizedTest
    @CsvSource({"MaskedLM,fill-mask", "SequenceClassification,sequence-classification"})
    void aHeadConfigOverBaseWeightsImportsTheBaseModel(String task, String kind) throws Exception {
        Path base = checkpoint(dir.resolve("base-" + task), "bert", task, task.equals("MaskedLM") ? List.of()
                : List.of("A", "B"), task.equals("MaskedLM") ? VOCAB : 2, 23);
        RawSafetensors st = new RawSafetensors();
        SplittableRandom random = new SplittableRandom(23);
        for (ExpectedTensor t : ArchitectureConfigs.parse(base.resolve("config.json")).expectedTensors()) {
            add(st, random, "bert." + t.name(), t.name().contains("LayerNorm"), t.shape()); // BertModel: pooler too
        }
        st.metadata("{\"format\":\"pt\"}").write(base.resolve("model.safetensors"));
        ModelSnapshot snap = ModelSnapshot.of(base, null);
        ImportedModel m = ModelImporter.importWeights(snap);
        assertThat(m.head()).isNull();
        assertThat(m.absentHead()).isEqualTo("BertFor" + task);
        assertThat(m.droppedHeads()).isEmpty();
        VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, Layout.STANDARD, Precision.FP32, SEQ, 0);
        Program p = VariantConverter.build(m, spec).program();
        assertThat(p.outputs()).extracting(v -> v.name()).containsExactly("last_hidden_state", "pooler_output");
        assertThat(p.metadata()).doesNotContainKey("aneforge.task");
        // the same weights as --head none imports them, less the note
        ImportedModel none = ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.NONE);
        assertThat(none.absentHead()).isNull();
        assertThat(m.weights().keySet()).containsExactlyElementsOf(none.weights().keySet());

        assertThatThrownBy(() -> ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.parse(kind)))
                .isInstanceOfSatisfying(io.aneforge.model.AbsentHeadException.class, e -> {
                    assertThat(e.missing()).isNotEmpty().allMatch(n -> n.startsWith(task.equals("MaskedLM") ? "cls."
                            : "classifier."));
                    assertThat(e.getMessage()).contains("--head " + kind + ": config.json names BertFor" + task
                            + ", but this checkpoint holds none of its " + kind + " head's tensors (missing: "
                            + String.join(", ", e.missing()) + "): its weights are the base model's alone: pass"
                            + " --head none to convert the base model's hidden states, or use the weights saved with"
                            + " the head");
                });
    }

    @Test
    void maskedLmHeadsWithoutTheirWeightsAreRefused() throws Exception {
        Path untied = checkpoint(dir.resolve("nodecoder"), "roberta", "MaskedLM", List.of(), VOCAB, 3);
        Files.writeString(untied.resolve("config.json"), Files.readString(untied.resolve("config.json"))
                .replace("\"model_type\"", "\"tie_word_embeddings\": false, \"model_type\""));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(untied, null)))
                .isInstanceOf(ModelImportException.class).hasMessageContaining("lm_head.decoder.weight");
        Path noBias = dir.resolve("nobias");
        checkpoint(noBias, "distilbert", "MaskedLM", List.of(), VOCAB, 3);
        // the same weights without the bias: a base checkpoint whose config claims the masked-LM head
        RawSafetensors st = new RawSafetensors();
        SplittableRandom random = new SplittableRandom(3);
        for (ExpectedTensor t : ArchitectureConfigs.parse(noBias.resolve("config.json")).expectedTensors()) {
            add(st, random, "distilbert." + t.name(), t.name().contains("layer_norm") || t.name().contains("LayerNorm"),
                    t.shape());
        }
        for (String m : List.of("vocab_transform", "vocab_layer_norm")) {
            add(st, random, m + ".weight", m.contains("norm"), m.contains("norm") ? new int[] {HIDDEN}
                    : new int[] {HIDDEN, HIDDEN});
            add(st, random, m + ".bias", false, HIDDEN);
        }
        st.metadata("{\"format\":\"pt\"}").write(noBias.resolve("model.safetensors"));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(noBias, null)))
                .isInstanceOf(ModelImportException.class)
                .hasMessageContaining("the masked-LM head's vocabulary bias 'vocab_projector.bias' is missing");
    }

    /**
     * A config whose architectures name two head kinds is refused naming both and the fix; {@code --head <kind>}
     * converts the one chosen (the other dropped and named), a kind the config does not name is refused too.
     */
    @Test
    void twoHeadKindsNeedAChoice() throws Exception {
        Path snapshot = checkpoint(dir.resolve("two"), "bert", "TokenClassification", LABELS, 3, 5);
        Files.writeString(snapshot.resolve("config.json"), Files.readString(snapshot.resolve("config.json"))
                .replace("[\"BertForTokenClassification\"]",
                        "[\"BertForTokenClassification\", \"BertForSequenceClassification\"]"));
        ModelSnapshot snap = ModelSnapshot.of(snapshot, null);
        assertThatThrownBy(() -> ModelImporter.importWeights(snap)).isInstanceOf(ModelImportException.class)
                .hasMessageContaining("config.json's architectures [BertForTokenClassification,"
                        + " BertForSequenceClassification] name 2 different task heads (token-classification,"
                        + " sequence-classification), and the converter will not guess which one the weights were"
                        + " trained for: pass --head token-classification or --head sequence-classification (or"
                        + " --head none for the base model's hidden states)");
        ImportedModel token = ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.parse(
                "token-classification"));
        assertThat(token.head().kind()).isEqualTo(TaskHead.Kind.TOKEN_CLASSIFICATION);
        assertThat(token.head().architecture()).isEqualTo("BertForTokenClassification");
        ImportedModel none = ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.NONE);
        assertThat(none.head()).isNull();
        assertThat(none.droppedHeads()).containsExactly("classifier");
        assertThatThrownBy(() -> ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.parse("fill-mask")))
                .isInstanceOf(ModelImportException.class)
                .hasMessageContaining("--head fill-mask: config.json's architectures [BertForTokenClassification,"
                        + " BertForSequenceClassification] name no fill-mask head; it has token-classification,"
                        + " sequence-classification: pass --head token-classification or --head"
                        + " sequence-classification or --head none");
        assertThatThrownBy(() -> io.aneforge.model.HeadChoice.parse("classifier"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--head must be one of convert, none, sequence-classification, token-classification,"
                        + " question-answering, fill-mask, pre-training, got 'classifier'");
    }

    /**
     * BertForPreTraining: its masked-LM head alone with {@code --head fill-mask} (the next-sentence head dropped and
     * named, the logits those of the pre-training package's prediction_logits), the base model with {@code --head
     * none}; the word table stored once; another kind refused naming the two it has; a checkpoint without the
     * next-sentence head or the pooler refused naming the fix.
     */
    @Test
    void aPreTrainingCheckpointConvertsWhollyToFillMaskOrToTheEncoder() throws Exception {
        Path snapshot = checkpoint(dir.resolve("pre"), "bert", "PreTraining", List.of(), VOCAB, 19);
        ModelSnapshot snap = ModelSnapshot.of(snapshot, null);
        ImportedModel pre = ModelImporter.importWeights(snap);
        assertThat(pre.head().kind()).isEqualTo(TaskHead.Kind.PRE_TRAINING);
        assertThat(pre.head().architecture()).isEqualTo("BertForPreTraining");
        assertThat(pre.head().outputs()).containsExactly("prediction_logits", "seq_relationship_logits");
        assertThat(pre.head().describe(SEQ)).isEqualTo("pre-training head (masked LM plus next-sentence prediction,"
                + " decoder tied to the word embeddings): prediction_logits (1, 12, vocabulary),"
                + " seq_relationship_logits (1, 2)");
        assertThat(ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.parse("pre-training")).head())
                .isEqualTo(pre.head());
        Map<String, FloatTensor> in = inputs();
        Map<String, FloatTensor> want = Plain.forward(pre, ids(in), REAL);
        VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP32, SEQ, 0);
        ConvertedVariant both = VariantConverter.convert(pre, spec, dir.resolve("pre-both"));
        assertThat(MlPackage.read(both.packageDir()).metadata()).containsEntry("aneforge.task", "pre-training")
                .containsEntry("aneforge.architecture", "BertForPreTraining").doesNotContainKey("aneforge.id2label");

        ImportedModel fillMask = ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.parse("fill-mask"));
        assertThat(fillMask.head().kind()).isEqualTo(TaskHead.Kind.MASKED_LM);
        assertThat(fillMask.head().architecture()).isEqualTo("BertForPreTraining");
        assertThat(fillMask.droppedHeads()).containsExactly("cls.seq_relationship");
        assertThat(fillMask.weights()).doesNotContainKey("cls.seq_relationship.weight");
        ConvertedVariant mlm = VariantConverter.convert(fillMask, spec, dir.resolve("pre-mlm"));
        Program read = MlPackage.read(mlm.packageDir());
        assertThat(read.outputs()).extracting(v -> v.name()).containsExactly("logits");
        assertThat(read.metadata()).containsEntry("aneforge.task", "fill-mask");
        FidelityReport r = Fidelity.compareLogits(want.get("prediction_logits"),
                ProgramEvaluator.runtime().run(read, in).get("logits"));
        assertThat(r.cosineMin()).isGreaterThanOrEqualTo(0.9999);
        assertThat(r.top1Agreement()).isEqualTo(1.0);
        // the next-sentence head adds the pooler and its 2 rows (and blob alignment), not a second word table
        long table = (long) VOCAB * HIDDEN * 4;
        long nsp = ((long) HIDDEN * HIDDEN + 3L * HIDDEN + 2) * 4;
        assertThat(weightBytes(both) - weightBytes(mlm)).isGreaterThanOrEqualTo(nsp).isLessThan(nsp + 1024)
                .isLessThan(table);

        ImportedModel none = ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.NONE);
        assertThat(none.head()).isNull();
        assertThat(none.droppedHeads()).containsExactly("cls");
        assertThat(VariantConverter.build(none, spec).program().outputs()).extracting(v -> v.name())
                .containsExactly("last_hidden_state", "pooler_output");

        assertThatThrownBy(() -> ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.parse(
                "token-classification"))).isInstanceOf(io.aneforge.model.HeadChoiceException.class)
                .hasMessageContaining("--head token-classification: config.json's architectures [BertForPreTraining]"
                        + " name no token-classification head; it has pre-training: pass --head pre-training or --head"
                        + " fill-mask or --head none");

        Path noNsp = checkpoint(dir.resolve("pre-nonsp"), "bert", "MaskedLM", List.of(), VOCAB, 19, (st, random) -> {
            add(st, random, "bert.pooler.dense.weight", false, HIDDEN, HIDDEN);
            add(st, random, "bert.pooler.dense.bias", false, HIDDEN);
        });
        Files.writeString(noNsp.resolve("config.json"), Files.readString(noNsp.resolve("config.json"))
                .replace("BertForMaskedLM", "BertForPreTraining"));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(noNsp, null)))
                .isInstanceOf(ModelImportException.class).hasMessageContaining("BertForPreTraining's next-sentence"
                        + " head 'cls.seq_relationship' is missing: use the checkpoint's complete weights, or convert"
                        + " with --head fill-mask for the masked-LM head alone (or --head none for the base model)");
        assertThat(ModelImporter.importWeights(ModelSnapshot.of(noNsp, null), io.aneforge.model.HeadChoice.parse(
                "fill-mask")).head().kind()).isEqualTo(TaskHead.Kind.MASKED_LM);
        Path noPooler = checkpoint(dir.resolve("pre-nopooler"), "bert", "MaskedLM", List.of(), VOCAB, 19,
                (st, random) -> {
                    add(st, random, "cls.seq_relationship.weight", false, 2, HIDDEN);
                    add(st, random, "cls.seq_relationship.bias", false, 2);
                });
        Files.writeString(noPooler.resolve("config.json"), Files.readString(noPooler.resolve("config.json"))
                .replace("BertForMaskedLM", "BertForPreTraining"));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(noPooler, null)))
                .isInstanceOf(ModelImportException.class).hasMessageContaining("BertForPreTraining classifies the"
                        + " pooler output (next-sentence prediction), but the checkpoint has no pooler.dense weights:"
                        + " use the checkpoint's complete weights, or convert with --head fill-mask for the masked-LM"
                        + " head alone");
    }

    /**
     * A BertForMaskedLM checkpoint that carries the next-sentence head (as bert-base-uncased does: a pooler,
     * {@code cls.seq_relationship}, a copy of the decoder weight): fill-mask by default, the next-sentence head dropped
     * and named; {@code --head pre-training} converts both heads, both layouts' packages agreeing with the plain loops
     * and their prediction_logits with the fill-mask package's logits (the class name is a hint, the weights decide).
     * Without those weights the choice is refused naming each missing tensor, from the safetensors header before a
     * tensor is read; RoBERTa, which transformers gives no pre-training head, is refused saying so, and a base-model
     * config saying it names no head.
     */
    @Test
    void aMaskedLmCheckpointWithTheNextSentenceHeadConvertsToPreTrainingWhenAsked() throws Exception {
        Path snapshot = checkpoint(dir.resolve("mlm-nsp"), "bert", "MaskedLM", List.of(), VOCAB, 23, (st, random) -> {
            add(st, random, "cls.predictions.decoder.weight", false, VOCAB, HIDDEN); // ignored: tied
            add(st, random, "cls.seq_relationship.weight", false, 2, HIDDEN);
            add(st, random, "cls.seq_relationship.bias", false, 2);
            add(st, random, "bert.pooler.dense.weight", false, HIDDEN, HIDDEN);
            add(st, random, "bert.pooler.dense.bias", false, HIDDEN);
        });
        ModelSnapshot snap = ModelSnapshot.of(snapshot, null);
        ImportedModel fillMask = ModelImporter.importWeights(snap);
        assertThat(fillMask.head().kind()).as("the default stays fill-mask").isEqualTo(TaskHead.Kind.MASKED_LM);
        assertThat(fillMask.droppedHeads()).containsExactly("cls.seq_relationship");

        ImportedModel pre = ModelImporter.importWeights(snap, io.aneforge.model.HeadChoice.parse("pre-training"));
        assertThat(pre.head().kind()).isEqualTo(TaskHead.Kind.PRE_TRAINING);
        assertThat(pre.head().architecture()).isEqualTo("BertForMaskedLM");
        assertThat(pre.head().chosenBeyondArchitecture()).isTrue();
        assertThat(pre.head().tiedDecoder()).isTrue();
        assertThat(pre.droppedHeads()).isEmpty();
        assertThat(pre.weights()).containsKeys("cls.seq_relationship.weight", "cls.seq_relationship.bias",
                "pooler.dense.weight").doesNotContainKey("cls.predictions.decoder.weight");
        Map<String, FloatTensor> in = inputs();
        Map<String, FloatTensor> want = Plain.forward(pre, ids(in), REAL);
        for (Layout layout : Layout.values()) {
            VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP32, SEQ, 0);
            ConvertedVariant cv = VariantConverter.convert(pre, spec, dir.resolve("mlm-nsp-" + spec.id()));
            Program read = MlPackage.read(cv.packageDir());
            assertThat(read.outputs()).extracting(v -> v.name())
                    .containsExactly("prediction_logits", "seq_relationship_logits");
            assertThat(read.metadata()).containsEntry("aneforge.task", "pre-training")
                    .containsEntry("aneforge.architecture", "BertForMaskedLM");
            Map<String, FloatTensor> got = ProgramEvaluator.runtime().run(read, in);
            for (String out : pre.head().outputs()) {
                assertThat(got.get(out).shape()).as(layout + " " + out).containsExactly(want.get(out).shape());
                FidelityReport r = Fidelity.compareLogits(want.get(out), got.get(out));
                assertThat(r.cosineMin()).as(layout + " " + out).isGreaterThanOrEqualTo(0.9999);
                assertThat(r.top1Agreement()).as(layout + " " + out).isEqualTo(1.0);
            }
            // the masked-LM half is the same function either way: the default (fill-mask) package's logits are the
            // pre-training package's prediction_logits, at every position the fidelity metrics read
            ConvertedVariant mlm = VariantConverter.convert(fillMask, spec, dir.resolve("mlm-nsp-fill-" + spec.id()));
            Program fill = MlPackage.read(mlm.packageDir());
            assertThat(fill.outputs()).extracting(v -> v.name()).containsExactly("logits");
            FloatTensor logits = ProgramEvaluator.runtime().run(fill, in).get("logits");
            assertThat(logits.shape()).containsExactly(got.get("prediction_logits").shape());
            FidelityReport same = Fidelity.compareLogits(got.get("prediction_logits"), logits);
            assertThat(same.cosineMin()).as(layout + " fill-mask logits").isGreaterThanOrEqualTo(0.999999);
            assertThat(same.top1Agreement()).as(layout + " fill-mask logits").isEqualTo(1.0);
        }

        // what a checkpoint saved from BertForMaskedLM holds: no pooler, no next-sentence head
        Path bare = checkpoint(dir.resolve("mlm-bare"), "bert", "MaskedLM", List.of(), VOCAB, 23);
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(bare, null),
                io.aneforge.model.HeadChoice.parse("pre-training")))
                .isInstanceOfSatisfying(MissingHeadTensorsException.class, e -> {
                    assertThat(e.missing()).containsExactlyElementsOf(TaskHead.NEXT_SENTENCE_TENSORS);
                    assertThat(e.architecture()).isEqualTo("BertForMaskedLM");
                    assertThat(e.file()).isEqualTo(bare.resolve("model.safetensors"));
                })
                .hasMessageContaining("--head pre-training: config.json names BertForMaskedLM, and this checkpoint lacks"
                        + " the next-sentence head's tensors pooler.dense.weight, pooler.dense.bias,"
                        + " cls.seq_relationship.weight, cls.seq_relationship.bias (a checkpoint saved from"
                        + " BertForPreTraining, such as bert-base-uncased's, has them): drop --head to convert the"
                        + " masked-LM head alone (fill-mask), or use weights that carry the next-sentence head");
        assertThat(ModelImporter.absentTensors(ModelSnapshot.of(bare, null), TaskHead.NEXT_SENTENCE_TENSORS))
                .containsExactlyElementsOf(TaskHead.NEXT_SENTENCE_TENSORS);
        assertThat(ModelImporter.absentTensors(snap, TaskHead.NEXT_SENTENCE_TENSORS)).isEmpty();
        // refused from the safetensors header, before the tensors are read: this pooler's NaN would fail the read
        Path nanPooler = checkpoint(dir.resolve("mlm-nan-pooler"), "bert", "MaskedLM", List.of(), VOCAB, 23,
                (st, random) -> {
                    add(st, random, "bert.pooler.dense.weight", false, HIDDEN, HIDDEN);
                    float[] nan = new float[HIDDEN];
                    nan[0] = Float.NaN;
                    st.f32("bert.pooler.dense.bias", nan, HIDDEN);
                });
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(nanPooler, null),
                io.aneforge.model.HeadChoice.parse("pre-training")))
                .isInstanceOfSatisfying(MissingHeadTensorsException.class, e -> assertThat(e.missing())
                        .containsExactly("cls.seq_relationship.weight", "cls.seq_relationship.bias"));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(nanPooler, null)))
                .as("the default import reads the pooler").hasMessageContaining("NaN");
        Path poolerOnly = checkpoint(dir.resolve("mlm-pooler"), "bert", "MaskedLM", List.of(), VOCAB, 23,
                (st, random) -> {
                    add(st, random, "bert.pooler.dense.weight", false, HIDDEN, HIDDEN);
                    add(st, random, "bert.pooler.dense.bias", false, HIDDEN);
                    add(st, random, "cls.seq_relationship.bias", false, 2);
                });
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(poolerOnly, null),
                io.aneforge.model.HeadChoice.parse("pre-training"))).isInstanceOf(MissingHeadTensorsException.class)
                .hasMessageContaining("this checkpoint lacks the next-sentence head's tensors"
                        + " cls.seq_relationship.weight (a checkpoint");
        assertThat(ModelImporter.absentTensors(ModelSnapshot.of(poolerOnly, null), TaskHead.NEXT_SENTENCE_TENSORS))
                .containsExactly("cls.seq_relationship.weight");
        assertThat(ModelImporter.importWeights(ModelSnapshot.of(poolerOnly, null)).head().kind())
                .isEqualTo(TaskHead.Kind.MASKED_LM);

        Path roberta = checkpoint(dir.resolve("roberta-mlm"), "roberta", "MaskedLM", List.of(), VOCAB, 23);
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(roberta, null),
                io.aneforge.model.HeadChoice.parse("pre-training")))
                .isInstanceOf(io.aneforge.model.HeadChoiceException.class)
                .hasMessageContaining("--head pre-training: config.json's architectures [RobertaForMaskedLM] name no"
                        + " pre-training head; it has fill-mask: pass --head fill-mask or --head none (transformers"
                        + " defines a pre-training head, masked LM plus next-sentence prediction, for BERT only)");

        // a base-model config is not searched for head weights, so the refusal says what config.json names
        Path base = checkpoint(dir.resolve("bert-base"), "bert", "MaskedLM", List.of(), VOCAB, 23);
        Files.writeString(base.resolve("config.json"), Files.readString(base.resolve("config.json"))
                .replace("BertForMaskedLM", "BertModel"));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(base, null),
                io.aneforge.model.HeadChoice.parse("pre-training")))
                .isInstanceOf(io.aneforge.model.HeadChoiceException.class)
                .hasMessageEndingWith("--head pre-training: config.json's architectures [BertModel] name no head, and"
                        + " the converter does not look for head weights under a base-model config: drop --head, or"
                        + " pass --head none (if the weights carry a head, name its class in config.json's"
                        + " architectures)");
    }

    /**
     * {@code problem_type}: in the head and the package metadata when config.json states it, absent when it does not
     * (one label included: the pipeline reads it by a sigmoid, not as the regression the loss guesses); an unknown
     * value is refused naming the supported ones.
     */
    @ParameterizedTest
    @CsvSource({"multi_label_classification,3,MULTI_LABEL", "single_label_classification,3,SINGLE_LABEL",
        "regression,1,REGRESSION", ",1,", ",3,"})
    void problemTypeIsReadIntoTheMetadata(String problemType, int labels, TaskHead.ProblemType want) throws Exception {
        Path snapshot = checkpoint(dir.resolve("p"), "distilbert", "SequenceClassification", List.of(), labels, 5);
        Files.writeString(snapshot.resolve("config.json"), Files.readString(snapshot.resolve("config.json"))
                .replace("\"model_type\"", (problemType == null ? "" : "\"problem_type\": \"" + problemType + "\", ")
                        + "\"num_labels\": " + labels + ", \"model_type\""));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        assertThat(model.head().problemType()).isEqualTo(want);
        Program p = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP16,
                SEQ, 0)).program();
        if (want == null) {
            assertThat(p.metadata()).doesNotContainKey("aneforge.problemType");
        } else {
            assertThat(p.metadata()).containsEntry("aneforge.problemType", want.id());
        }
    }

    @Test
    void anUnknownProblemTypeIsRefused() throws Exception {
        Path snapshot = checkpoint(dir.resolve("bad"), "bert", "SequenceClassification", LABELS, 3, 5);
        Files.writeString(snapshot.resolve("config.json"), Files.readString(snapshot.resolve("config.json"))
                .replace("\"model_type\"", "\"problem_type\": \"multi_label\", \"model_type\""));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(snapshot, null)))
                .isInstanceOf(ModelImportException.class)
                .hasMessageContaining("config field 'problem_type' = \"multi_label\" is not supported (supported:"
                        + " single_label_classification, multi_label_classification, regression; leave it out for"
                        + " transformers' default): fix config.json");
    }

    private static long weightBytes(ConvertedVariant cv) throws java.io.IOException {
        return Files.size(cv.packageDir().resolve("Data/com.apple.CoreML/weights/weight.bin"));
    }

    // ---- checkpoints

    /** A {@code <Family>For<task>} checkpoint: random base weights under the family's prefix, and the head's. */
    static Path checkpoint(Path dir, String family, String task, List<String> labels, int rows, long seed)
            throws Exception {
        return checkpoint(dir, family, task, labels, rows, seed, (st, random) -> { });
    }

    /** Like {@link #checkpoint(Path, String, String, List, int, long)}, with {@code extra} tensors written too. */
    static Path checkpoint(Path dir, String family, String task, List<String> labels, int rows, long seed,
                           java.util.function.BiConsumer<RawSafetensors, SplittableRandom> extra) throws Exception {
        Files.createDirectories(dir);
        String arch = switch (family) {
            case "bert" -> "Bert";
            case "roberta" -> "Roberta";
            default -> "DistilBert";
        } + "For" + task;
        StringBuilder id2label = new StringBuilder();
        for (int i = 0; i < labels.size(); i++) {
            id2label.append(i == 0 ? "" : ", ").append('"').append(i).append("\": \"").append(labels.get(i)).append('"');
        }
        String labelJson = labels.isEmpty() ? "" : "\"id2label\": {" + id2label + "},\n";
        String config = family.equals("distilbert") ? String.format(Locale.ROOT, """
                {"architectures": ["%s"], "model_type": "distilbert", %s"vocab_size": %d, "dim": %d, "n_layers": %d,
                 "n_heads": %d, "hidden_dim": %d, "max_position_embeddings": %d, "activation": "gelu"}
                """, arch, labelJson, VOCAB, HIDDEN, LAYERS, HEADS, FFN, POSITIONS)
                : String.format(Locale.ROOT, """
                {"architectures": ["%s"], "model_type": "%s", %s"vocab_size": %d, "hidden_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "intermediate_size": %d,
                 "max_position_embeddings": %d, "type_vocab_size": %d, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
                 "pad_token_id": 1}
                """, arch, family, labelJson, VOCAB, HIDDEN, LAYERS, HEADS, FFN, POSITIONS,
                family.equals("roberta") ? 1 : 2);
        Files.writeString(dir.resolve("config.json"), config);
        Files.writeString(dir.resolve("tokenizer.json"), io.aneforge.testsupport.models.TinyTokenizers.wordPieceJson());
        SplittableRandom random = new SplittableRandom(seed);
        RawSafetensors st = new RawSafetensors();
        for (ExpectedTensor t : ArchitectureConfigs.parse(dir.resolve("config.json")).expectedTensors()) {
            if (t.name().startsWith("pooler.") && !(family.equals("bert") && (task.equals("SequenceClassification")
                    || task.equals("PreTraining")))) {
                continue; // only BERT's sequence classifier and pre-training model have a pooler (add_pooling_layer)
            }
            add(st, random, family + "." + t.name(), t.name().contains("LayerNorm") || t.name().contains("layer_norm"),
                    t.shape());
        }
        if (task.equals("MaskedLM") || task.equals("PreTraining")) {
            // the decoder's weight is tied to the word embeddings: transformers saves it once, under the embeddings
            TaskHead.MaskedLmNames n = TaskHead.maskedLmNames(family);
            add(st, random, n.transform() + ".weight", false, HIDDEN, HIDDEN);
            add(st, random, n.transform() + ".bias", false, HIDDEN);
            add(st, random, n.norm() + ".weight", true, HIDDEN);
            add(st, random, n.norm() + ".bias", true, HIDDEN);
            // RoBERTa's checkpoint stores the tied bias as decoder.bias only (both names are read)
            add(st, random, family.equals("roberta") ? n.decoderBias() : n.bias(), false, rows);
            if (task.equals("PreTraining")) {
                add(st, random, TaskHead.SEQ_RELATIONSHIP + ".weight", false, 2, HIDDEN);
                add(st, random, TaskHead.SEQ_RELATIONSHIP + ".bias", false, 2);
            }
            extra.accept(st, random);
            st.metadata("{\"format\":\"pt\"}").write(dir.resolve("model.safetensors"));
            return dir;
        }
        String out = task.equals("QuestionAnswering") ? "qa_outputs" : family.equals("roberta")
                && task.equals("SequenceClassification") ? "classifier.out_proj" : "classifier";
        if (task.equals("SequenceClassification") && !family.equals("bert")) {
            String hidden = family.equals("roberta") ? "classifier.dense" : "pre_classifier";
            add(st, random, hidden + ".weight", false, HIDDEN, HIDDEN);
            add(st, random, hidden + ".bias", false, HIDDEN);
        }
        add(st, random, out + ".weight", false, rows, HIDDEN);
        add(st, random, out + ".bias", false, rows);
        extra.accept(st, random);
        st.metadata("{\"format\":\"pt\"}").write(dir.resolve("model.safetensors"));
        return dir;
    }

    static Map<String, FloatTensor> inputs() {
        return PlainLoops.paddedInputs(SEQ, REAL, VOCAB);
    }

    /**
     * The encoders and heads in plain double loops, straight from transformers' modeling_bert, modeling_roberta and
     * modeling_distilbert (eval mode: dropout is the identity; masked keys get -inf, not the graphs' -1e4).
     */
    static final class Plain {
        static Map<String, FloatTensor> forward(ImportedModel m, int[] ids, int real) {
            return forward(m, ids, new int[ids.length], real);
        }

        static Map<String, FloatTensor> forward(ImportedModel m, int[] ids, int[] types, int real) {
            return forward(m, ids, types, real, null, null);
        }

        /**
         * As transformers computes it: the encoder's activation is config.json's {@code hidden_act} (DistilBERT's
         * {@code activation}), its LayerNorms' eps {@code layer_norm_eps} (DistilBERT: 1e-12); the masked-LM head
         * uses the same, except RoBERTa's, which applies exact gelu whatever {@code hidden_act} says.
         * {@code headAct}/{@code headEps}, when not null, replace the head's choices: the wrong readings a test shows
         * it would notice.
         */
        static Map<String, FloatTensor> forward(ImportedModel m, int[] ids, int[] types, int real, String headAct,
                                                Double headEps) {
            String type = m.config().modelType();
            boolean distil = type.equals("distilbert");
            String act = m.config() instanceof io.aneforge.model.BertConfig c ? c.hiddenAct()
                    : ((io.aneforge.model.DistilBertConfig) m.config()).activation();
            double eps = m.config() instanceof io.aneforge.model.BertConfig c ? c.layerNormEps() : 1e-12;
            int s = ids.length;
            int h = m.config().hiddenSize();
            int offset = type.equals("roberta") ? 2 : 0; // pad_token_id 1 + 1
            int[] positions = new int[s];
            for (int t = 0; t < s; t++) {
                positions[t] = t + offset;
            }
            double[][] x = embeddings(m, ids, positions, distil ? null : types);
            x = norm(m, x, "embeddings.LayerNorm", eps);
            int heads = m.config().numHeads();
            int d = h / heads;
            for (int l = 0; l < m.config().numLayers(); l++) {
                String p = (distil ? "transformer.layer." : "encoder.layer.") + l + ".";
                double[][] q = dense(m, x, p + (distil ? "attention.q_lin" : "attention.self.query"));
                double[][] k = dense(m, x, p + (distil ? "attention.k_lin" : "attention.self.key"));
                double[][] v = dense(m, x, p + (distil ? "attention.v_lin" : "attention.self.value"));
                double[][] ctx = attention(q, k, v, heads,
                        (hd, qi, ki, dot) -> ki >= real ? Double.NEGATIVE_INFINITY : dot / Math.sqrt(d));
                double[][] a = dense(m, ctx, p + (distil ? "attention.out_lin" : "attention.output.dense"));
                x = norm(m, PlainLoops.add(a, x), p + (distil ? "sa_layer_norm" : "attention.output.LayerNorm"), eps);
                double[][] f = activation(dense(m, x, p + (distil ? "ffn.lin1" : "intermediate.dense")), act);
                f = dense(m, f, p + (distil ? "ffn.lin2" : "output.dense"));
                x = norm(m, PlainLoops.add(f, x), p + (distil ? "output_layer_norm" : "output.LayerNorm"), eps);
            }
            TaskHead head = m.head();
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            switch (head.kind()) {
                case SEQUENCE_CLASSIFICATION -> {
                    double[][] first = {x[0]};
                    double[][] logits = switch (type) {
                        case "roberta" -> dense(m, tanh(dense(m, first, "classifier.dense")), "classifier.out_proj");
                        case "distilbert" -> dense(m, relu(dense(m, first, "pre_classifier")), "classifier");
                        default -> dense(m, tanh(dense(m, first, "pooler.dense")), "classifier");
                    };
                    out.put("logits", tensor(logits, 1, head.numLabels()));
                }
                case TOKEN_CLASSIFICATION -> out.put("logits", tensor(dense(m, x, "classifier"), 1, s, head.numLabels()));
                case QUESTION_ANSWERING -> {
                    double[][] se = dense(m, x, "qa_outputs");
                    double[][] start = new double[1][s];
                    double[][] end = new double[1][s];
                    for (int t = 0; t < s; t++) {
                        start[0][t] = se[t][0];
                        end[0][t] = se[t][1];
                    }
                    out.put("start_logits", tensor(start, 1, s));
                    out.put("end_logits", tensor(end, 1, s));
                }
                case MASKED_LM, PRE_TRAINING -> {
                    // BertLMPredictionHead / RobertaLMHead / DistilBertForMaskedLM: transform, activation (RoBERTa's:
                    // exact gelu), LayerNorm, then the decoder, its weight the word embeddings unless
                    // tie_word_embeddings is false
                    TaskHead.MaskedLmNames n = TaskHead.maskedLmNames(type);
                    String lmAct = headAct != null ? headAct : type.equals("roberta") ? "gelu" : act;
                    double lmEps = headEps != null ? headEps : eps;
                    double[][] t = norm(m, activation(dense(m, x, n.transform()), lmAct), n.norm(), lmEps);
                    FloatTensor decoder = m.weight(head.tiedDecoder() ? "embeddings.word_embeddings.weight"
                            : n.decoder() + ".weight");
                    double[][] logits = decode(t, decoder.data(), m.weight(n.bias()).data());
                    int vocab = decoder.shape()[0];
                    if (head.kind() == TaskHead.Kind.MASKED_LM) {
                        out.put("logits", tensor(logits, 1, s, vocab));
                    } else {
                        // BertPreTrainingHeads: the same prediction head, and seq_relationship over BertPooler's
                        // tanh(dense(first token))
                        out.put("prediction_logits", tensor(logits, 1, s, vocab));
                        double[][] pooled = tanh(dense(m, new double[][] {x[0]}, "pooler.dense"));
                        out.put("seq_relationship_logits", tensor(dense(m, pooled, "cls.seq_relationship"), 1, 2));
                    }
                }
                default -> throw new IllegalStateException();
            }
            return out;
        }
    }
}

package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.predict.ClassifierReading;
import io.aneforge.convert.Golden;
import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.mil.Program;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.model.TaskHead;
import io.aneforge.safetensors.SafetensorsFile;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.RawSafetensors;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.testsupport.models.TinyTokenizers;
import io.aneforge.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The task heads on the command line: a masked-LM checkpoint converts to a fill-mask package whose predict shows the
 * top 5 tokens at each [MASK]; a classifier's problem_type reaches variants.json and decides how predict reads its
 * logits; a config naming two head kinds needs {@code --head <kind>}.
 */
class TaskHeadCommandsTest {
    static final int SEQ = 12;
    static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path dir;
    static Path bert;

    @BeforeAll
    static void base() throws Exception {
        bert = TinyModels.bert(dir.resolve("bert"), 23);
    }

    /**
     * A head checkpoint from the tiny BERT: its tensors under "bert.", {@code head}'s added, config.json's
     * architectures replaced by {@code architectures} and {@code configExtra} added.
     */
    static Path checkpoint(String name, String architectures, String configExtra, Consumer<RawSafetensors> head)
            throws Exception {
        return checkpoint(name, architectures, configExtra, head, t -> true);
    }

    /** Like {@link #checkpoint(String, String, String, Consumer)}, with the tiny BERT's tensors {@code base} keeps. */
    static Path checkpoint(String name, String architectures, String configExtra, Consumer<RawSafetensors> head,
                           java.util.function.Predicate<String> base) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        RawSafetensors st = new RawSafetensors();
        try (var f = SafetensorsFile.open(bert.resolve("model.safetensors"))) {
            for (var t : f.tensors()) {
                if (base.test(t.name())) {
                    st.f32("bert." + t.name(), f.readFloat(t.name()).data(), t.shape());
                }
            }
        }
        head.accept(st);
        st.write(d.resolve("model.safetensors"));
        Files.copy(bert.resolve("tokenizer.json"), d.resolve("tokenizer.json"));
        Files.writeString(d.resolve("config.json"), Files.readString(bert.resolve("config.json"))
                .replace("[\"BertModel\"]", architectures + configExtra));
        return d;
    }

    static float[] wave(int n, double phase) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (0.5 * Math.sin(i * 0.7 + phase));
        }
        return v;
    }

    static void classifier(RawSafetensors st, int labels) {
        st.f32("classifier.weight", wave(labels * TinyModels.HIDDEN, 1), labels, TinyModels.HIDDEN);
        st.f32("classifier.bias", wave(labels, 2), labels);
    }

    static void maskedLm(RawSafetensors st) {
        int h = TinyModels.HIDDEN;
        int v = TinyTokenizers.wordPieceVocab().size();
        st.f32("cls.predictions.transform.dense.weight", wave(h * h, 3), h, h);
        st.f32("cls.predictions.transform.dense.bias", wave(h, 4), h);
        float[] gamma = wave(h, 5);
        for (int i = 0; i < h; i++) {
            gamma[i] += 1;
        }
        st.f32("cls.predictions.transform.LayerNorm.weight", gamma, h);
        st.f32("cls.predictions.transform.LayerNorm.bias", wave(h, 6), h);
        st.f32("cls.predictions.bias", wave(v, 7), v);
    }

    static JsonNode json(Cli c) throws Exception {
        assertThat(c.code()).as(c.toString()).isZero();
        return JSON.readTree(c.out());
    }

    @Test
    void aMaskedLmConvertsToAFillMaskPackageAndPredictShowsTheTopTokensAtEachMask() throws Exception {
        Path mlm = checkpoint("mlm", "[\"BertForMaskedLM\"]", "", TaskHeadCommandsTest::maskedLm);
        Path out = dir.resolve("mlm-out");
        Cli c = Cli.run("convert", "--source", mlm.toString(), "--out", out.toString(), "--chips", "M4",
                "--seq-len", String.valueOf(SEQ), "--samples", "2", "--progress", "plain", "--min-cosine", "0.99");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("converting the checkpoint's masked-LM head (fill-mask, decoder tied to the word"
                + " embeddings): logits (1, " + SEQ + ", vocabulary)").doesNotContain("is not converted")
                .doesNotContain("token types;");
        VariantsManifest m = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.model().task()).isEqualTo(new VariantsManifest.Task("fill-mask", "BertForMaskedLM",
                List.of("logits"), List.of()));
        assertThat(m.variants()).isNotEmpty().allSatisfy(v -> assertThat(v.fidelity()).containsOnlyKeys("logits")
                .allSatisfy((name, f) -> assertThat(f.top1Agreement()).isNotNull()));
        Path pkg = out.resolve(m.variants().get(0).path());
        Program program = MlPackage.read(pkg);
        assertThat(program.metadata()).containsEntry("aneforge.task", "fill-mask")
                .doesNotContainKey("aneforge.problemType");
        // the golden data's cost is said: logits over the vocabulary at every real token of the fixed samples
        long goldenBytes = Files.size(out.resolve("golden-outputs.bin"));
        assertThat(c.out()).containsPattern("note: a fill-mask model's golden data holds its logits over the whole"
                + " vocabulary \\([0-9]+ tokens\\) at each of the fixed samples' [0-9]+ real tokens").contains(
                String.format(java.util.Locale.ROOT, "golden-outputs.bin is %.1f MB", goldenBytes / 1e6))
                .contains("aneforge.agent.golden-max-memory (1GB by default").contains("--samples 0 skips it");

        String text = "hello [MASK] the world [MASK]";
        JsonNode answer = json(Cli.run("predict", "--package", pkg.toString(), "--text", text, "--json"));
        JsonNode masks = answer.get("masks");
        assertThat(masks).hasSize(2);
        // the package's own logits, read here: softmax over the vocabulary at each mask position
        List<String> vocab = TinyTokenizers.wordPieceVocab();
        try (Tokenizer tok = Tokenizer.load(pkg.getParent().resolve("tokenizer.json"))) {
            Map<String, FloatTensor> in = Golden.inputs(tok, List.of(text), SEQ).get(0);
            FloatTensor logits = ProgramEvaluator.runtime().run(program, in).get("logits");
            int[] positions = {2, 5}; // [CLS] hello [MASK] the world [MASK] [SEP]
            for (int k = 0; k < 2; k++) {
                JsonNode mask = masks.get(k);
                assertThat(mask.get("position").intValue()).isEqualTo(positions[k]);
                assertThat(in.get("input_ids").data()[positions[k]]).isEqualTo(vocab.indexOf("[MASK]"));
                float[] row = java.util.Arrays.copyOfRange(logits.data(), positions[k] * vocab.size(),
                        (positions[k] + 1) * vocab.size());
                double max = Double.NEGATIVE_INFINITY;
                int best = 0;
                double sum = 0;
                for (int i = 0; i < row.length; i++) {
                    if (row[i] > max) {
                        max = row[i];
                        best = i;
                    }
                }
                for (float x : row) {
                    sum += Math.exp(x - max);
                }
                JsonNode candidates = mask.get("candidates");
                assertThat(candidates).hasSize(5);
                assertThat(candidates.get(0).get("id").intValue()).isEqualTo(best);
                assertThat(candidates.get(0).get("token").stringValue()).isEqualTo(vocab.get(best));
                assertThat(candidates.get(0).get("score").doubleValue()).isCloseTo(1 / sum, Offset.offset(1e-3));
                for (int i = 1; i < 5; i++) {
                    assertThat(candidates.get(i).get("score").doubleValue())
                            .isLessThanOrEqualTo(candidates.get(i - 1).get("score").doubleValue());
                }
            }
        }
        Cli plain = Cli.run("predict", "--package", pkg.toString(), "--text", text);
        assertThat(plain.code()).as(plain.toString()).isZero();
        assertThat(plain.out()).containsPattern("\\[MASK] at token 2:  '[^']+' 0\\.\\d{6}  '")
                .contains("[MASK] at token 5:");

        Cli noMask = Cli.run("predict", "--package", pkg.toString(), "--text", "the cat sat on the mat");
        assertThat(noMask.code()).as(noMask.toString()).isEqualTo(2);
        assertThat(noMask.err()).isEqualTo("aneforge predict: --text has no [MASK] token, and " + pkg + " is a fill-mask"
                + " package: it predicts the token at each [MASK]: write it where the word to predict goes, e.g. --text"
                + " 'Paris is the [MASK] of France.'\n");

        Cli eval = Cli.run("eval", "--package", pkg.toString(), "--source", mlm.toString(), "--samples", "2");
        assertThat(eval.code()).as(eval.toString()).isZero();
        assertThat(eval.out()).containsPattern("\nlogits +(0\\.99|1\\.0)");
    }

    static void preTraining(RawSafetensors st) {
        maskedLm(st);
        st.f32("cls.seq_relationship.weight", wave(2 * TinyModels.HIDDEN, 8), 2, TinyModels.HIDDEN);
        st.f32("cls.seq_relationship.bias", new float[] {0.3f, -0.2f}, 2);
    }

    /**
     * BertForPreTraining: a package with both outputs (variants.json's task, fidelity of each with top-1 agreement),
     * predict showing the top tokens at each [MASK] and, for a pair, the next-sentence softmax; eval compares both;
     * {@code --head fill-mask} converts the masked-LM half alone.
     */
    @Test
    void aPreTrainingCheckpointConvertsToBothOutputsAndPredictShowsMasksAndNextSentence() throws Exception {
        Path pre = checkpoint("pre", "[\"BertForPreTraining\"]", "", TaskHeadCommandsTest::preTraining);
        Path out = dir.resolve("pre-out");
        Cli c = Cli.run("convert", "--source", pre.toString(), "--out", out.toString(), "--chips", "M4",
                "--seq-len", String.valueOf(SEQ), "--samples", "2", "--progress", "plain", "--min-cosine", "0.99",
                "--token-types");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("converting the checkpoint's pre-training head (masked LM plus next-sentence"
                + " prediction, decoder tied to the word embeddings): prediction_logits (1, " + SEQ + ", vocabulary),"
                + " seq_relationship_logits (1, 2)").doesNotContain("is not converted")
                .contains("note: a pre-training model's golden data holds its logits over the whole vocabulary");
        VariantsManifest m = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.model().task()).isEqualTo(new VariantsManifest.Task("pre-training", "BertForPreTraining",
                List.of("prediction_logits", "seq_relationship_logits"), List.of()));
        assertThat(m.variants()).isNotEmpty().allSatisfy(v -> assertThat(v.fidelity())
                .containsOnlyKeys("prediction_logits", "seq_relationship_logits")
                .allSatisfy((name, f) -> assertThat(f.top1Agreement()).isNotNull()));
        Path pkg = out.resolve(m.variants().get(0).path());
        Program program = MlPackage.read(pkg);
        assertThat(program.metadata()).containsEntry("aneforge.task", "pre-training");

        String text = "hello [MASK] the world";
        String pair = "the cat sat";
        JsonNode answer = json(Cli.run("predict", "--package", pkg.toString(), "--text", text, "--text-pair", pair,
                "--json"));
        assertThat(answer.get("masks")).hasSize(1);
        assertThat(answer.at("/masks/0/position").intValue()).isEqualTo(2);
        assertThat(answer.at("/masks/0/candidates")).hasSize(5);
        try (Tokenizer tok = Tokenizer.load(pkg.getParent().resolve("tokenizer.json"))) {
            Map<String, FloatTensor> in = Golden.inputs(tok.encodePair(text, pair, SEQ), true);
            Map<String, FloatTensor> got = ProgramEvaluator.runtime().run(program, in);
            FloatTensor nsp = got.get("seq_relationship_logits");
            assertThat(nsp.shape()).containsExactly(1, 2);
            double isNext = 1 / (1 + Math.exp(nsp.data()[1] - nsp.data()[0]));
            assertThat(answer.at("/nextSentence/isNext").doubleValue()).isCloseTo(isNext, Offset.offset(1e-6));
            assertThat(answer.at("/nextSentence/notNext").doubleValue()).isCloseTo(1 - isNext, Offset.offset(1e-6));
            // the mask's candidates come from prediction_logits at its position
            FloatTensor logits = got.get("prediction_logits");
            int v = TinyTokenizers.wordPieceVocab().size();
            int best = 0;
            for (int i = 1; i < v; i++) {
                if (logits.data()[2 * v + i] > logits.data()[2 * v + best]) {
                    best = i;
                }
            }
            assertThat(answer.at("/masks/0/candidates/0/id").intValue()).isEqualTo(best);
        }
        Cli plain = Cli.run("predict", "--package", pkg.toString(), "--text", text, "--text-pair", pair);
        assertThat(plain.code()).as(plain.toString()).isZero();
        assertThat(plain.out()).contains("[MASK] at token 2:").containsPattern("next sentence \\(softmax of"
                + " seq_relationship_logits\\):  follows 0\\.\\d{6}  random 0\\.\\d{6}");
        // one text: the masks only (no next sentence to judge); a pair needs no mask
        JsonNode single = json(Cli.run("predict", "--package", pkg.toString(), "--text", text, "--json"));
        assertThat(single.has("nextSentence")).isFalse();
        assertThat(single.get("masks")).hasSize(1);
        JsonNode noMask = json(Cli.run("predict", "--package", pkg.toString(), "--text", "hello world", "--text-pair",
                pair, "--json"));
        assertThat(noMask.get("masks")).isEmpty();
        assertThat(noMask.has("nextSentence")).isTrue();
        Cli neither = Cli.run("predict", "--package", pkg.toString(), "--text", "hello world");
        assertThat(neither.code()).as(neither.toString()).isEqualTo(2);
        assertThat(neither.err()).isEqualTo("aneforge predict: --text has no [MASK] token, and " + pkg + " is a"
                + " pre-training package: it predicts the token at each [MASK] (write it where the word to predict"
                + " goes, e.g. --text 'Paris is the [MASK] of France.') and, given --text-pair, whether the second"
                + " text follows the first\n");

        Cli eval = Cli.run("eval", "--package", pkg.toString(), "--source", pre.toString(), "--samples", "2");
        assertThat(eval.code()).as(eval.toString()).isZero();
        assertThat(eval.out()).containsPattern("\nprediction_logits +(0\\.99|1\\.0)")
                .containsPattern("\nseq_relationship_logits +(0\\.99|1\\.0)");

        Path mlmPkg = dir.resolve("pre-mlm.mlpackage");
        Cli mlm = Cli.run("convert", "--source", pre.toString(), "--out", mlmPkg.toString(), "--seq-len",
                String.valueOf(SEQ), "--samples", "1", "--progress", "plain", "--head", "fill-mask");
        assertThat(mlm.code()).as(mlm.toString()).isZero();
        assertThat(mlm.out()).contains("masked-LM head (fill-mask").contains("note: the checkpoint's task head"
                + " (cls.seq_relationship) is not converted: it is BERT's next-sentence head, left out by --head"
                + " fill-mask; drop --head to convert it beside the masked-LM head (outputs prediction_logits and"
                + " seq_relationship_logits)").doesNotContain("--head pre-training");
        assertThat(MlPackage.read(mlmPkg).metadata()).containsEntry("aneforge.task", "fill-mask")
                .containsEntry("aneforge.architecture", "BertForPreTraining");
        assertThat(MlPackage.read(mlmPkg).outputs()).extracting(o -> o.name()).containsExactly("logits");
        Cli mlmEval = Cli.run("eval", "--package", mlmPkg.toString(), "--source", pre.toString(), "--samples", "1");
        assertThat(mlmEval.code()).as(mlmEval.toString()).isZero();
    }

    /**
     * A BertForMaskedLM checkpoint that carries the next-sentence head (as bert-base-uncased does): convert makes it
     * fill-mask by default, naming the dropped head and the flag that converts it; {@code --head pre-training} gives
     * both outputs (variants.json's task, fidelity, the golden data's note naming {@code --samples 0}), predict shows
     * the next-sentence softmax for a pair, eval compares both outputs; without those weights the flag is refused naming
     * the missing tensors.
     */
    @Test
    void aMaskedLmCheckpointWithTheNextSentenceHeadConvertsToPreTrainingWithTheFlag() throws Exception {
        Path mlm = checkpoint("mlm-nsp", "[\"BertForMaskedLM\"]", "", TaskHeadCommandsTest::preTraining);
        Path fillMask = dir.resolve("mlm-nsp-fill.mlpackage");
        Cli byDefault = Cli.run("convert", "--source", mlm.toString(), "--out", fillMask.toString(), "--seq-len",
                String.valueOf(SEQ), "--samples", "1", "--progress", "plain");
        assertThat(byDefault.code()).as(byDefault.toString()).isZero();
        assertThat(byDefault.out()).contains("masked-LM head (fill-mask").contains("note: the checkpoint's task head"
                + " (cls.seq_relationship) is not converted: it is BERT's next-sentence head; --head pre-training"
                + " converts it beside the masked-LM head (outputs prediction_logits and seq_relationship_logits)")
                .doesNotContain("base model's hidden states, not the head's outputs");
        assertThat(MlPackage.read(fillMask).metadata()).containsEntry("aneforge.task", "fill-mask");

        Path out = dir.resolve("mlm-nsp-out");
        Cli c = Cli.run("convert", "--source", mlm.toString(), "--out", out.toString(), "--chips", "M4",
                "--seq-len", String.valueOf(SEQ), "--samples", "2", "--progress", "plain", "--min-cosine", "0.99",
                "--token-types", "--head", "pre-training");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("converting the checkpoint's pre-training head (masked LM plus next-sentence"
                + " prediction, decoder tied to the word embeddings)").doesNotContain("is not converted")
                .contains("note: a pre-training model's golden data holds its logits over the whole vocabulary")
                .contains("--samples 0 skips it, and the fidelity metrics with it (publish --dir of such a directory"
                        + " needs --without-golden-data --reason TEXT");
        VariantsManifest m = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.model().task()).isEqualTo(new VariantsManifest.Task("pre-training", "BertForMaskedLM",
                List.of("prediction_logits", "seq_relationship_logits"), List.of()));
        assertThat(m.variants()).isNotEmpty().allSatisfy(v -> assertThat(v.fidelity())
                .containsOnlyKeys("prediction_logits", "seq_relationship_logits"));
        assertThat(m.golden()).isNotNull();
        Path pkg = out.resolve(m.variants().get(0).path());
        Program program = MlPackage.read(pkg);
        assertThat(program.metadata()).containsEntry("aneforge.task", "pre-training")
                .containsEntry("aneforge.architecture", "BertForMaskedLM");

        String text = "hello [MASK] the world";
        String pair = "the cat sat";
        JsonNode answer = json(Cli.run("predict", "--package", pkg.toString(), "--text", text, "--text-pair", pair,
                "--json"));
        assertThat(answer.get("masks")).hasSize(1);
        try (Tokenizer tok = Tokenizer.load(pkg.getParent().resolve("tokenizer.json"))) {
            FloatTensor nsp = ProgramEvaluator.runtime().run(program, Golden.inputs(tok.encodePair(text, pair, SEQ),
                    true)).get("seq_relationship_logits");
            double isNext = 1 / (1 + Math.exp(nsp.data()[1] - nsp.data()[0]));
            assertThat(answer.at("/nextSentence/isNext").doubleValue()).isCloseTo(isNext, Offset.offset(1e-6));
        }
        Cli eval = Cli.run("eval", "--package", pkg.toString(), "--source", mlm.toString(), "--samples", "2");
        assertThat(eval.code()).as(eval.toString()).isZero();
        assertThat(eval.out()).containsPattern("\nprediction_logits +(0\\.99|1\\.0)")
                .containsPattern("\nseq_relationship_logits +(0\\.99|1\\.0)");

        // a masked LM as transformers saves BertForMaskedLM: no next-sentence head (this one keeps the pooler)
        Path bare = checkpoint("mlm-bare", "[\"BertForMaskedLM\"]", "", TaskHeadCommandsTest::maskedLm);
        Cli refused = Cli.run("convert", "--source", bare.toString(), "--out", dir.resolve("bare.mlpackage").toString(),
                "--seq-len", String.valueOf(SEQ), "--samples", "1", "--progress", "plain", "--head", "pre-training");
        assertThat(refused.code()).as(refused.toString()).isEqualTo(2);
        assertThat(refused.err()).contains("--head pre-training: config.json names BertForMaskedLM, and this checkpoint"
                + " lacks the next-sentence head's tensors cls.seq_relationship.weight, cls.seq_relationship.bias (")
                .endsWith("drop --head to convert the masked-LM head alone (fill-mask), or use weights that carry the"
                        + " next-sentence head\n").doesNotContain("fix the model files");
        assertThat(dir.resolve("bare.mlpackage")).doesNotExist();
        // eval's head comes from the package, and eval has no --head to drop
        Cli wrongSource = Cli.run("eval", "--package", pkg.toString(), "--source", bare.toString(), "--samples", "1");
        assertThat(wrongSource.code()).as(wrongSource.toString()).isEqualTo(2);
        assertThat(wrongSource.err()).isEqualTo("aneforge eval: " + pkg + " computes a pre-training head"
                + " (aneforge.task), but --source " + bare + " lacks the next-sentence head's tensors"
                + " cls.seq_relationship.weight, cls.seq_relationship.bias: pass the --source the package was converted"
                + " from\n");

        // the next-sentence head without the pooler it reads: --head pre-training would be refused, so not named
        Path noPooler = checkpoint("mlm-nsp-nopooler", "[\"BertForMaskedLM\"]", "", TaskHeadCommandsTest::preTraining,
                t -> !t.startsWith("pooler."));
        Cli unconvertible = Cli.run("convert", "--source", noPooler.toString(), "--out",
                dir.resolve("mlm-nsp-nopooler.mlpackage").toString(), "--seq-len", String.valueOf(SEQ), "--samples",
                "0", "--progress", "plain");
        assertThat(unconvertible.code()).as(unconvertible.toString()).isZero();
        assertThat(unconvertible.out()).contains("note: the checkpoint's task head (cls.seq_relationship) is not"
                + " converted: it is BERT's next-sentence head, and this checkpoint lacks tensors it needs"
                + " (pooler.dense.weight, pooler.dense.bias), so it cannot be converted")
                .doesNotContain("--head pre-training");
    }

    @Test
    void problemTypeDecidesHowPredictReadsTheLogits() throws Exception {
        String labels = ", \"id2label\": {\"0\": \"sports\", \"1\": \"politics\", \"2\": \"science\"}";
        Path multi = checkpoint("multi", "[\"BertForSequenceClassification\"]",
                labels + ", \"problem_type\": \"multi_label_classification\"", st -> classifier(st, 3));
        Path multiPkg = dir.resolve("multi.mlpackage");
        Cli c = Cli.run("convert", "--source", multi.toString(), "--out", multiPkg.toString(), "--seq-len",
                String.valueOf(SEQ), "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("sequence classification head (3 labels, multi_label_classification): logits (1, 3)");
        assertThat(MlPackage.read(multiPkg).metadata()).containsEntry("aneforge.problemType", "multi_label_classification");
        JsonNode answer = json(Cli.run("predict", "--package", multiPkg.toString(), "--source", multi.toString(),
                "--text", "hello world", "--json"));
        assertThat(answer.has("label")).isFalse();
        List<String> names = List.of("sports", "politics", "science");
        List<String> above = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            double logit = answer.at("/outputs/logits/first/" + i).doubleValue();
            double sigmoid = 1 / (1 + Math.exp(-logit));
            assertThat(answer.at("/labels/" + i + "/label").stringValue()).isEqualTo(names.get(i));
            assertThat(answer.at("/labels/" + i + "/score").doubleValue()).isCloseTo(sigmoid, Offset.offset(1e-6));
            if (sigmoid > 0.5) {
                above.add(names.get(i));
            }
        }
        assertThat(JSON.convertValue(answer.get("predictedLabels"), List.class)).isEqualTo(above);
        Cli plain = Cli.run("predict", "--package", multiPkg.toString(), "--source", multi.toString(),
                "--text", "hello world");
        assertThat(plain.out()).contains("labels above 0.5 (a sigmoid per label): "
                + (above.isEmpty() ? "none" : String.join(", ", above)) + "\n").contains("scores  sports 0.");

        // one label, no problem_type: nothing recorded, and read as the text-classification pipeline reads it, the
        // label with its sigmoid (not the regression transformers' loss would guess)
        Path oneLabel = checkpoint("one-label", "[\"BertForSequenceClassification\"]", ", \"num_labels\": 1",
                st -> classifier(st, 1));
        Path out = dir.resolve("one-label-out");
        c = Cli.run("convert", "--source", oneLabel.toString(), "--out", out.toString(), "--chips", "M4", "--seq-len",
                String.valueOf(SEQ), "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        VariantsManifest m = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.model().task().problemType()).isNull();
        assertThat(Files.readString(out.resolve("variants.json"))).doesNotContain("problemType");
        Path oneLabelPkg = out.resolve(m.variants().get(0).path());
        assertThat(MlPackage.read(oneLabelPkg).metadata()).doesNotContainKey("aneforge.problemType");
        answer = json(Cli.run("predict", "--package", oneLabelPkg.toString(), "--text", "hello world", "--json"));
        assertThat(answer.has("values")).isFalse();
        assertThat(answer.at("/label/label").stringValue()).isEqualTo("LABEL_0");
        double logit = answer.at("/outputs/logits/first/0").doubleValue();
        assertThat(answer.at("/label/score").doubleValue()).isCloseTo(1 / (1 + Math.exp(-logit)), Offset.offset(1e-6));

        // regression stated: the raw value
        Path regression = checkpoint("regression", "[\"BertForSequenceClassification\"]",
                ", \"num_labels\": 1, \"problem_type\": \"regression\"", st -> classifier(st, 1));
        out = dir.resolve("regression-out");
        c = Cli.run("convert", "--source", regression.toString(), "--out", out.toString(), "--chips", "M4", "--seq-len",
                String.valueOf(SEQ), "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        m = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.model().task().problemType()).isEqualTo("regression");
        assertThat(Files.readString(out.resolve("variants.json"))).contains("\"problemType\" : \"regression\"");
        answer = json(Cli.run("predict", "--package", out.resolve(m.variants().get(0).path()).toString(), "--text",
                "hello world", "--json"));
        assertThat(answer.has("label")).isFalse();
        assertThat(answer.at("/values/0/label").stringValue()).isEqualTo("LABEL_0");
        assertThat(answer.at("/values/0/value").floatValue()).isEqualTo(answer.at("/outputs/logits/first/0").floatValue());

        Path unknown = checkpoint("unknown", "[\"BertForSequenceClassification\"]",
                labels + ", \"problem_type\": \"ordinal\"", st -> classifier(st, 3));
        Cli bad = Cli.run("convert", "--source", unknown.toString(), "--out", dir.resolve("unknown.mlpackage").toString(),
                "--seq-len", String.valueOf(SEQ), "--samples", "0");
        assertThat(bad.code()).as(bad.toString()).isEqualTo(2);
        assertThat(bad.err()).contains("config field 'problem_type' = \"ordinal\" is not supported (supported:"
                + " single_label_classification, multi_label_classification, regression; leave it out for"
                + " transformers' default)");
    }

    /**
     * A sentence-transformers CrossEncoder: config.json's activation (the older sbert_ce_default_activation_function,
     * or sentence_transformers.activation_fn, which wins as in CrossEncoder) reaches the package metadata and
     * variants.json, and predict prints CrossEncoder.predict's scores: the ms-marco cross-encoders' Identity gives the
     * raw logit (the pipeline would give its sigmoid); a value that is not a class path is refused at convert.
     */
    @Test
    void aCrossEncoderActivationDecidesHowPredictScoresTheLogits() throws Exception {
        Path msMarco = checkpoint("ms-marco", "[\"BertForSequenceClassification\"]", ", \"num_labels\": 1,"
                + " \"sbert_ce_default_activation_function\": \"torch.nn.modules.linear.Identity\"", st -> classifier(st, 1));
        Path out = dir.resolve("ms-marco-out");
        Cli c = Cli.run("convert", "--source", msMarco.toString(), "--out", out.toString(), "--chips", "M4", "--seq-len",
                String.valueOf(SEQ), "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("sequence classification head (1 labels, CrossEncoder activation"
                + " torch.nn.modules.linear.Identity): logits (1, 1)");
        VariantsManifest m = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.model().task().activationFn()).isEqualTo("torch.nn.modules.linear.Identity");
        assertThat(m.model().task().problemType()).isNull();
        Path pkg = out.resolve(m.variants().get(0).path());
        assertThat(MlPackage.read(pkg).metadata()).containsEntry("aneforge.activationFn", "torch.nn.modules.linear.Identity");
        JsonNode answer = json(Cli.run("predict", "--package", pkg.toString(), "--text", "hello world", "--json"));
        assertThat(answer.has("label")).isFalse();
        assertThat(answer.at("/crossEncoder/applied").stringValue()).isEqualTo("identity");
        assertThat(answer.at("/crossEncoder/scores/0/label").stringValue()).isEqualTo("LABEL_0");
        assertThat(answer.at("/crossEncoder/scores/0/value").floatValue())
                .isEqualTo(answer.at("/outputs/logits/first/0").floatValue());
        Cli plain = Cli.run("predict", "--package", pkg.toString(), "--text", "hello world");
        assertThat(plain.out()).contains("scores (CrossEncoder.predict, identity of torch.nn.modules.linear.Identity)"
                + "  LABEL_0 ");
        assertThat(plain.err()).doesNotContain("warning");

        // sentence-transformers 4+: sentence_transformers.activation_fn, read before the older field
        Path v4 = checkpoint("v4", "[\"BertForSequenceClassification\"]", ", \"num_labels\": 1,"
                + " \"sbert_ce_default_activation_function\": \"torch.nn.modules.linear.Identity\", \"sentence_transformers\":"
                + " {\"activation_fn\": \"torch.nn.modules.activation.Sigmoid\", \"version\": \"4.1.0\"}",
                st -> classifier(st, 1));
        Path v4Pkg = dir.resolve("v4.mlpackage");
        c = Cli.run("convert", "--source", v4.toString(), "--out", v4Pkg.toString(), "--seq-len", String.valueOf(SEQ),
                "--samples", "0");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(MlPackage.read(v4Pkg).metadata()).containsEntry("aneforge.activationFn",
                "torch.nn.modules.activation.Sigmoid");
        answer = json(Cli.run("predict", "--package", v4Pkg.toString(), "--source", v4.toString(), "--text",
                "hello world", "--json"));
        double logit = answer.at("/outputs/logits/first/0").doubleValue();
        assertThat(answer.at("/crossEncoder/scores/0/value").doubleValue()).isCloseTo(1 / (1 + Math.exp(-logit)),
                Offset.offset(1e-6));

        Path bad = checkpoint("bad-activation", "[\"BertForSequenceClassification\"]", ", \"num_labels\": 1,"
                + " \"sbert_ce_default_activation_function\": 7", st -> classifier(st, 1));
        Cli refused = Cli.run("convert", "--source", bad.toString(), "--out", dir.resolve("bad.mlpackage").toString(),
                "--seq-len", String.valueOf(SEQ), "--samples", "0");
        assertThat(refused.code()).as(refused.toString()).isEqualTo(2);
        assertThat(refused.err()).contains("config field 'sbert_ce_default_activation_function' = 7 is not a class path");
    }

    /**
     * CrossEncoder.predict's activations on given logits; a torch class predict does not apply gives the raw logits
     * with a warning, a path outside torch CrossEncoder's default (it loads those only with trust_remote_code).
     */
    @Test
    void crossEncoderScoresFollowTheNamedActivation() {
        FloatTensor three = new FloatTensor(new int[] {1, 3}, new float[] {1f, -2f, 0.5f});
        String names = "{\"0\": \"contradiction\", \"1\": \"entailment\", \"2\": \"neutral\"}";
        PredictCommand.Reading r = new PredictCommand().read(Map.of("aneforge.id2label", names, "aneforge.activationFn",
                "torch.nn.modules.activation.Softmax"), three);
        assertThat(r.label()).isNull();
        double sum = Math.exp(1) + Math.exp(-2) + Math.exp(0.5);
        assertThat(r.crossEncoder().scores().get(1).label()).isEqualTo("entailment");
        assertThat(r.crossEncoder().scores().get(1).value()).isCloseTo(Math.exp(-2) / sum, Offset.offset(1e-9));
        assertThat(r.crossEncoder().warning()).isNull();
        ClassifierReading.CrossEncoderScores tanh = ClassifierReading.crossEncoder("torch.nn.Tanh", names, three);
        assertThat(tanh.scores().get(0).value()).isCloseTo(Math.tanh(1), Offset.offset(1e-9));
        ClassifierReading.CrossEncoderScores identity = ClassifierReading.crossEncoder("torch.nn.modules.linear.Identity",
                names, three);
        assertThat(identity.scores().get(2).value()).isEqualTo(0.5);
        ClassifierReading.CrossEncoderScores relu = ClassifierReading.crossEncoder("torch.nn.modules.activation.ReLU",
                names, three);
        assertThat(relu.applied()).isEqualTo("identity");
        assertThat(relu.scores().get(1).value()).isEqualTo(-2.0);
        assertThat(relu.warning()).contains("'torch.nn.modules.activation.ReLU' is not one this predict applies");
        FloatTensor one = new FloatTensor(new int[] {1, 1}, new float[] {2f});
        ClassifierReading.CrossEncoderScores custom = ClassifierReading.crossEncoder("my_package.Scale", null, one);
        assertThat(custom.applied()).isEqualTo("sigmoid");
        assertThat(custom.scores().get(0).value()).isCloseTo(1 / (1 + Math.exp(-2)), Offset.offset(1e-9));
        assertThat(custom.warning()).contains("trust_remote_code");
        assertThat(ClassifierReading.crossEncoder("my_package.Scale", names, three).applied()).isEqualTo("identity");
    }

    /**
     * transformers' pipeline order: regression raw; multi-label, or one label (even single_label_classification), a
     * sigmoid; else a softmax.
     */
    @Test
    void theReadingFollowsTheTextClassificationPipeline() {
        assertThat(ClassifierReading.function(null, 1)).isEqualTo(ClassifierReading.Function.SIGMOID);
        assertThat(ClassifierReading.function(null, 2)).isEqualTo(ClassifierReading.Function.SOFTMAX);
        assertThat(ClassifierReading.function(TaskHead.ProblemType.SINGLE_LABEL, 1))
                .isEqualTo(ClassifierReading.Function.SIGMOID);
        assertThat(ClassifierReading.function(TaskHead.ProblemType.SINGLE_LABEL, 3))
                .isEqualTo(ClassifierReading.Function.SOFTMAX);
        assertThat(ClassifierReading.function(TaskHead.ProblemType.MULTI_LABEL, 3))
                .isEqualTo(ClassifierReading.Function.SIGMOID);
        assertThat(ClassifierReading.function(TaskHead.ProblemType.REGRESSION, 1)).isEqualTo(ClassifierReading.Function.NONE);
        PredictCommand.Reading one = new PredictCommand().read(Map.of("aneforge.id2label", "{\"0\": \"RELEVANT\"}"),
                new FloatTensor(new int[] {1, 1}, new float[] {2f}));
        assertThat(one.label().label()).isEqualTo("RELEVANT");
        assertThat(one.label().score()).isCloseTo(1 / (1 + Math.exp(-2)), Offset.offset(1e-9));
        assertThat(one.values()).isNull();
    }

    /** A package written before problem_type was read (no aneforge.problemType) keeps the softmax label. */
    @Test
    void aPackageWithoutAProblemTypeKeepsTheSoftmaxLabel() {
        PredictCommand.Reading r = new PredictCommand().read(Map.of("aneforge.id2label", "{\"0\": \"NO\", \"1\": \"YES\"}"),
                new FloatTensor(new int[] {1, 2}, new float[] {0.5f, 2.5f}));
        assertThat(r.label().label()).isEqualTo("YES");
        assertThat(r.label().score()).isCloseTo(1 / (1 + Math.exp(-2)), Offset.offset(1e-9));
        assertThat(r.labels()).isNull();
        assertThat(r.values()).isNull();
    }

    @Test
    void helpNamesTheHeadKindsAndHowPredictReadsThem() {
        Cli convert = Cli.run("convert", "--help");
        assertThat(convert.code()).isZero();
        String flat = convert.out().replaceAll("\\s+", " ");
        assertThat(flat).contains("--head=convert|none|<kind>").contains("a config whose architectures name two head"
                + " kinds needs the kind").contains("sequence-classification, token-classification, question-answering,"
                + " fill-mask (also the masked-LM half of a pre-training checkpoint) or pre-training (also a BERT"
                + " masked LM whose checkpoint carries the next-sentence head, cls.seq_relationship, and the pooler it"
                + " reads, as bert-base-uncased's does)");
        Cli publish = Cli.run("publish", "--help");
        assertThat(publish.code()).isZero();
        assertThat(publish.out().replaceAll("\\s+", " ")).contains("pre-training also for a BERT masked LM whose"
                + " checkpoint carries the next-sentence head, cls.seq_relationship, and the pooler it reads");
        Cli predict = Cli.run("predict", "--help");
        assertThat(predict.code()).isZero();
        assertThat(predict.out().replaceAll("\\s+", " ")).contains("a 1-label one's sigmoid, a multi-label one's"
                + " sigmoid per label (and the labels above 0.5, aneforge's cut), a regression's raw values, a fill-mask package's top 5 tokens with their softmax scores"
                + " at each mask token ([MASK], RoBERTa's <mask>) of --text; a pre-training package's too, and with"
                + " --text-pair its next-sentence probabilities");
    }

    /**
     * A BertForMaskedLM config over BertModel's weights (all-mpnet-base-v2's case: a sentence-transformers checkpoint
     * whose config names the pre-training class): convert converts the base model and says the head is absent;
     * {@code --head fill-mask} is refused naming the missing tensors and {@code --head none}, without blaming the
     * files; eval of a fill-mask package against that source says the source lacks the head.
     */
    @Test
    void aHeadConfigOverBaseWeightsConvertsTheBaseModelAndSaysSo() throws Exception {
        Path base = checkpoint("mlm-base", "[\"BertForMaskedLM\"]", "", st -> { });
        Path pkg = dir.resolve("mlm-base.mlpackage");
        Cli c = Cli.run("convert", "--source", base.toString(), "--out", pkg.toString(), "--seq-len",
                String.valueOf(SEQ), "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("note: config.json names BertForMaskedLM, but the checkpoint holds none of that"
                + " head's tensors: the packages output the base model's hidden states (--head none converts the same"
                + " without this note)").doesNotContain("converting the checkpoint's");
        assertThat(MlPackage.read(pkg).outputs()).extracting(v -> v.name())
                .containsExactly("last_hidden_state", "pooler_output");

        Cli refused = Cli.run("convert", "--source", base.toString(), "--out", dir.resolve("mlm-base-fm.mlpackage")
                .toString(), "--seq-len", String.valueOf(SEQ), "--samples", "0", "--head", "fill-mask");
        assertThat(refused.code()).as(refused.toString()).isEqualTo(2);
        assertThat(refused.err()).isEqualTo("aneforge convert: --source: " + base.resolve("model.safetensors")
                + ": --head fill-mask: config.json names BertForMaskedLM, but this checkpoint holds none of its"
                + " fill-mask head's tensors (missing: cls.predictions.transform.dense.weight,"
                + " cls.predictions.transform.dense.bias, cls.predictions.transform.LayerNorm.weight,"
                + " cls.predictions.transform.LayerNorm.bias, cls.predictions.bias): its weights are the base model's"
                + " alone: pass --head none to convert the base model's hidden states, or use the weights saved with"
                + " the head\n");

        Path mlm = checkpoint("mlm-for-eval", "[\"BertForMaskedLM\"]", "", TaskHeadCommandsTest::maskedLm);
        Path fillMask = dir.resolve("mlm-for-eval.mlpackage");
        assertThat(Cli.run("convert", "--source", mlm.toString(), "--out", fillMask.toString(), "--seq-len",
                String.valueOf(SEQ), "--samples", "0").code()).isZero();
        Cli eval = Cli.run("eval", "--package", fillMask.toString(), "--source", base.toString(), "--samples", "1");
        assertThat(eval.code()).as(eval.toString()).isEqualTo(2);
        assertThat(eval.err()).contains(fillMask + " computes a fill-mask head (aneforge.task), but --source " + base
                + " holds none of that head's tensors (missing: cls.predictions.transform.dense.weight")
                .contains("): pass the --source the package was converted from").doesNotContain("--head");
    }

    @Test
    void twoHeadKindsNeedHeadKind() throws Exception {
        Path two = checkpoint("two", "[\"BertForSequenceClassification\", \"BertForTokenClassification\"]",
                ", \"id2label\": {\"0\": \"NEGATIVE\", \"1\": \"POSITIVE\"}", st -> classifier(st, 2));
        Cli refused = Cli.run("convert", "--source", two.toString(), "--out", dir.resolve("two.mlpackage").toString(),
                "--seq-len", String.valueOf(SEQ), "--samples", "0");
        assertThat(refused.code()).as(refused.toString()).isEqualTo(2);
        assertThat(refused.err()).isEqualTo("aneforge convert: --source: " + two.resolve("config.json") + ": config.json's"
                + " architectures [BertForSequenceClassification, BertForTokenClassification] name 2 different task"
                + " heads (sequence-classification, token-classification), and the converter will not guess which one"
                + " the weights were trained for: pass --head sequence-classification or --head token-classification"
                + " (or --head none for the base model's hidden states)\n");
        Path tokenPkg = dir.resolve("two-token.mlpackage");
        Cli token = Cli.run("convert", "--source", two.toString(), "--out", tokenPkg.toString(), "--seq-len",
                String.valueOf(SEQ), "--samples", "1", "--progress", "plain", "--head", "token-classification");
        assertThat(token.code()).as(token.toString()).isZero();
        assertThat(token.out()).contains("converting the checkpoint's token classification head (2 labels): logits (1, "
                + SEQ + ", 2)");
        Program p = MlPackage.read(tokenPkg);
        assertThat(p.metadata()).containsEntry("aneforge.task", "token-classification")
                .containsEntry("aneforge.architecture", "BertForTokenClassification");
        assertThat(p.outputs().get(0).shape()).containsExactly(1, SEQ, 2);
        // eval converts the same head again: the package's task picks it
        Cli eval = Cli.run("eval", "--package", tokenPkg.toString(), "--source", two.toString(), "--samples", "1");
        assertThat(eval.code()).as(eval.toString()).isZero();
        assertThat(eval.out()).containsPattern("\nlogits +(0\\.99|1\\.0)");
        // a source naming another kind: eval's words (it has no --head), not convert's advice
        Path sequenceOnly = checkpoint("sequence-only", "[\"BertForSequenceClassification\"]",
                ", \"id2label\": {\"0\": \"NEGATIVE\", \"1\": \"POSITIVE\"}", st -> classifier(st, 2));
        Cli wrong = Cli.run("eval", "--package", tokenPkg.toString(), "--source", sequenceOnly.toString(), "--samples",
                "1");
        assertThat(wrong.code()).as(wrong.toString()).isEqualTo(2);
        assertThat(wrong.err()).contains(tokenPkg + " computes a token-classification head (aneforge.task), but the"
                + " config.json of --source " + sequenceOnly + " names no token-classification head (architectures"
                + " [BertForSequenceClassification]): pass the --source the package was converted from")
                .doesNotContain("--head");

        Cli missing = Cli.run("convert", "--source", two.toString(), "--out", dir.resolve("two-qa.mlpackage").toString(),
                "--seq-len", String.valueOf(SEQ), "--samples", "0", "--head", "question-answering");
        assertThat(missing.code()).as(missing.toString()).isEqualTo(2);
        assertThat(missing.err()).contains("--head question-answering: config.json's architectures"
                + " [BertForSequenceClassification, BertForTokenClassification] name no question-answering head; it"
                + " has sequence-classification, token-classification: pass --head sequence-classification or --head"
                + " token-classification or --head none\n");
        Cli none = Cli.run("convert", "--source", two.toString(), "--out", dir.resolve("two-none.mlpackage").toString(),
                "--seq-len", String.valueOf(SEQ), "--samples", "0", "--progress", "plain", "--head", "none");
        assertThat(none.code()).as(none.toString()).isZero();
        assertThat(none.out()).contains("note: the checkpoint's task head (classifier) is not converted");
    }
}

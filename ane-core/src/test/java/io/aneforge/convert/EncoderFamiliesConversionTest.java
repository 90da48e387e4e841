package io.aneforge.convert;

import static io.aneforge.convert.PlainLoops.activation;
import static io.aneforge.convert.PlainLoops.attention;
import static io.aneforge.convert.PlainLoops.decode;
import static io.aneforge.convert.PlainLoops.embeddings;
import static io.aneforge.convert.PlainLoops.dense;
import static io.aneforge.convert.PlainLoops.gelu;
import static io.aneforge.convert.PlainLoops.ids;
import static io.aneforge.convert.PlainLoops.norm;
import static io.aneforge.convert.PlainLoops.tanh;
import static io.aneforge.convert.PlainLoops.tensor;
import static io.aneforge.convert.RandomWeights.add;
import static io.aneforge.convert.RandomWeights.addScaled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.mil.Program;
import io.aneforge.mil.SequencePrefix;
import io.aneforge.mil.Target;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.model.ArchitectureConfigs;
import io.aneforge.model.ExpectedTensor;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImportException;
import io.aneforge.model.ModelImporter;
import io.aneforge.model.MpnetConfig;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.RawSafetensors;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The encoder families beside BERT: XLM-RoBERTa and CamemBERT (RoBERTa's code under other model types) and MPNet
 * (BERT-like layers plus one relative position bias shared by every layer). Tiny random checkpoints written as the Hub
 * stores them; both layouts' written packages, run on the reference runtime, agree with a plain-loop forward pass
 * written here from transformers' modeling_roberta.py and modeling_mpnet.py (not from the graph builders).
 */
class EncoderFamiliesConversionTest {
    static final int HIDDEN = 32;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int FFN = 64;
    static final int VOCAB = io.aneforge.testsupport.models.TinyTokenizers.wordPieceVocab().size();
    /** Long enough that keys 91 or more positions away reach MPNet's last bucket (15 and 31). */
    static final int SEQ = 96;
    static final int REAL = 93;

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"xlm-roberta,XLMRobertaModel", "camembert,CamembertModel", "xlm-roberta,XLMRobertaForSequenceClassification",
        "xlm-roberta,XLMRobertaForMaskedLM", "mpnet,MPNetModel", "mpnet,MPNetForSequenceClassification",
        "mpnet,MPNetForMaskedLM", "mpnet,MPNetForTokenClassification"})
    void bothLayoutsMatchAPlainLoop(String type, String architecture) throws Exception {
        Path snapshot = checkpoint(dir.resolve(architecture + type), type, architecture, 3);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        assertThat(model.config().modelType()).isEqualTo(type);
        assertThat(model.droppedHeads()).isEmpty();
        Map<String, FloatTensor> in = inputs(REAL);
        Map<String, FloatTensor> expected = Plain.forward(model, ids(in), REAL, true);
        for (Layout layout : Layout.values()) {
            VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP32, SEQ, 0);
            ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve(architecture + spec.id()));
            Program read = MlPackage.read(cv.packageDir());
            assertThat(read.metadata()).containsEntry("aneforge.model_type", type);
            Map<String, FloatTensor> got = ProgramEvaluator.runtime().run(read, in);
            assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
            for (String out : expected.keySet()) {
                double cos = cosineOnRealTokens(expected.get(out), got.get(out), REAL, SEQ);
                System.out.printf(Locale.ROOT, "%s %s %s %s: min cosine %.8f%n", type, architecture, layout, out, cos);
                assertThat(cos).as(layout + " " + out).isGreaterThanOrEqualTo(0.9999);
            }
        }
        if (type.equals("mpnet")) {
            // the bias matters: the same plain loop without it is far from the package
            Map<String, FloatTensor> noBias = Plain.forward(model, ids(in), REAL, false);
            String out = expected.keySet().iterator().next();
            assertThat(cosineOnRealTokens(expected.get(out), noBias.get(out), REAL, SEQ)).isLessThan(0.999);
        }
    }

    /**
     * The MPNet graph is cut to a sequence prefix as the encoders are (fidelity runs the prefix of the fixed samples):
     * the relative position bias, gathered from constants, is cut on both axes; the prefix program's outputs on the
     * real tokens are the whole program's. Query chunks (ane) give the unchunked outputs, and FP16 in the ane layout
     * stays close to the FP32 plain loop.
     */
    @Test
    void mpnetPrefixProgramAndFp16() throws Exception {
        Path snapshot = checkpoint(dir.resolve("mpnet"), "mpnet", "MPNetModel", 5);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        int real = 37;
        int prefix = 48;
        Map<String, FloatTensor> in = inputs(real);
        Map<String, FloatTensor> cut = new LinkedHashMap<>();
        in.forEach((k, v) -> cut.put(k, new FloatTensor(new int[] {1, prefix}, java.util.Arrays.copyOf(v.data(), prefix))));
        for (Layout layout : Layout.values()) {
            Program whole = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, layout,
                    Precision.FP32, SEQ, 0)).program();
            Program part = SequencePrefix.apply(whole, prefix); // throws when the bias could not be followed
            // the cuts (position rows from a const, the bias computed from constants) are slice_by_index outputs: only
            // const and constexpr outputs are compile-time constants, as a package read back says
            assertThat(part.operations()).filteredOn(op -> op.type().equals("slice_by_index")).isNotEmpty();
            assertThat(part.operations()).allSatisfy(op -> assertThat(op.outputs()).allSatisfy(v -> assertThat(
                    v.isCompileTimeConstant()).as(op.type() + " " + v.name())
                    .isEqualTo(op.type().equals("const") || op.type().startsWith("constexpr_"))));
            io.aneforge.mil.ProgramValidator.validate(part);
            FloatTensor a = ProgramEvaluator.runtime().run(whole, in).get("last_hidden_state");
            FloatTensor b = ProgramEvaluator.runtime().run(part, cut).get("last_hidden_state");
            assertThat(b.shape()).containsExactly(1, prefix, HIDDEN);
            assertThat(java.util.Arrays.copyOf(b.data(), real * HIDDEN)).as(layout.toString())
                    .containsExactly(java.util.Arrays.copyOf(a.data(), real * HIDDEN), org.assertj.core.data.Offset.offset(1e-5f));
        }
        // the ane layout's query chunks slice each head's bias along the queries: exact
        Program chunked = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE,
                Precision.FP32, SEQ, 64)).program(); // chunks of 64 and 32 queries
        Program unchunked = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE,
                Precision.FP32, SEQ, 0)).program();
        assertThat(ProgramEvaluator.runtime().run(chunked, in).get("last_hidden_state").data())
                .containsExactly(ProgramEvaluator.runtime().run(unchunked, in).get("last_hidden_state").data(),
                        org.assertj.core.data.Offset.offset(1e-5f));
        Map<String, FloatTensor> expected = Plain.forward(model, ids(in), real, true);
        Program fp16 = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP16,
                SEQ, 0)).program();
        double cos = cosineOnRealTokens(expected.get("last_hidden_state"),
                ProgramEvaluator.runtime().run(fp16, in).get("last_hidden_state"), real, SEQ);
        System.out.printf(Locale.ROOT, "mpnet ane fp16: min cosine %.6f%n", cos);
        assertThat(cos).isGreaterThanOrEqualTo(0.999);
    }

    /**
     * A package at the default minimum target (iOS 16, FP16) keeps its bucket indices out of weight.bin: int32 goes
     * to weight.bin only from iOS 18 (as coremltools writes it), so they are an immediate value in model.mlmodel. The
     * package reads back and matches the plain loop in both layouts; at iOS 18 the same indices are an int32 blob.
     */
    @Test
    void mpnetAtIos16HasNoInt32Blob() throws Exception {
        Path snapshot = checkpoint(dir.resolve("mpnet-ios16"), "mpnet", "MPNetModel", 11);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        Map<String, FloatTensor> in = inputs(REAL);
        Map<String, FloatTensor> expected = Plain.forward(model, ids(in), REAL, true);
        for (Layout layout : Layout.values()) {
            for (Target target : List.of(io.aneforge.recipe.Recipe.DEFAULT_MINIMUM_TARGET, Target.IOS18)) {
                VariantSpec spec = new VariantSpec("A17_PRO", target, layout, Precision.FP16, SEQ, 0);
                ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve("ios16-" + spec.id()));
                List<io.aneforge.mlpackage.proto.Value> int32Consts = int32ConstValues(cv.packageDir());
                assertThat(int32Consts).as(spec.id()).anySatisfy(v -> assertThat(
                        v.getType().getTensorType().getDimensionsList().stream().mapToLong(d -> d.getConstant().getSize())
                                .reduce(1, (a, b) -> a * b)).isEqualTo((long) SEQ * SEQ)); // the bucket indices
                if (target == Target.IOS18) {
                    assertThat(int32Consts).as(spec.id()).anyMatch(io.aneforge.mlpackage.proto.Value::hasBlobFileValue);
                    continue;
                }
                assertThat(int32Consts).as(spec.id()).noneMatch(io.aneforge.mlpackage.proto.Value::hasBlobFileValue);
                Program read = MlPackage.read(cv.packageDir());
                assertThat(read.target()).isEqualTo(Target.IOS16);
                FloatTensor got = ProgramEvaluator.runtime().run(read, in).get("last_hidden_state");
                double cos = cosineOnRealTokens(expected.get("last_hidden_state"), got, REAL, SEQ);
                System.out.printf(Locale.ROOT, "mpnet %s iOS 16 fp16: min cosine %.6f%n", layout, cos);
                assertThat(cos).as(spec.id()).isGreaterThanOrEqualTo(0.999);
            }
        }
    }

    /** The values of every int32 const in a written package's model.mlmodel (immediate or in weight.bin). */
    private static List<io.aneforge.mlpackage.proto.Value> int32ConstValues(Path pkg) throws Exception {
        var m = io.aneforge.mlpackage.proto.Model.parseFrom(Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/model.mlmodel")));
        return m.getMlProgram().getFunctionsMap().get("main").getBlockSpecializationsMap().values().iterator().next()
                .getOperationsList().stream().filter(op -> op.getType().equals("const"))
                .map(op -> op.getAttributesMap().get("val"))
                .filter(v -> v.getType().getTensorType().getDataType() == io.aneforge.mlpackage.proto.DataType.INT32)
                .toList();
    }

    /** The bias table stays FP16 under weight quantization (an additive term of the scores), and is read once. */
    @Test
    void mpnetBiasTableIsNotQuantized() throws Exception {
        Path snapshot = checkpoint(dir.resolve("mpnet-q"), "mpnet", "MPNetModel", 9);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        var built = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE,
                Precision.parse("int4-block32"), SEQ, 0));
        assertThat(built.reports()).filteredOn(r -> r.tensor().equals(MpnetConfig.RELATIVE_BIAS))
                .singleElement().satisfies(r -> assertThat(r.scheme()).isEqualTo("fp16"));
        assertThat(built.program().operations()).filteredOn(op -> op.type().equals("gather")).hasSize(2); // words, bias
    }

    /**
     * all-mpnet-base-v2's case: config.json names MPNetForMaskedLM, the checkpoint is MPNetModel's (no lm_head, a
     * pooler). The default imports the base model and names the head absent; the package matches the plain loop's
     * hidden states. {@code --head fill-mask} is refused naming the missing tensors and {@code --head none}.
     */
    @Test
    void mpnetMaskedLmConfigOverBaseWeights() throws Exception {
        Path snapshot = checkpoint(dir.resolve("mpnet-st"), "mpnet", "MPNetModel", 13);
        Files.writeString(snapshot.resolve("config.json"), Files.readString(snapshot.resolve("config.json"))
                .replace("MPNetModel", "MPNetForMaskedLM"));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        assertThat(model.head()).isNull();
        assertThat(model.absentHead()).isEqualTo("MPNetForMaskedLM");
        Map<String, FloatTensor> in = inputs(REAL);
        Map<String, FloatTensor> expected = Plain.forward(model, ids(in), REAL, true);
        assertThat(expected.keySet()).containsExactly("last_hidden_state", "pooler_output");
        VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP32, SEQ, 0);
        Map<String, FloatTensor> got = ProgramEvaluator.runtime().run(VariantConverter.build(model, spec).program(), in);
        for (String out : expected.keySet()) {
            assertThat(cosineOnRealTokens(expected.get(out), got.get(out), REAL, SEQ)).as(out).isGreaterThanOrEqualTo(0.9999);
        }
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(snapshot, null),
                io.aneforge.model.HeadChoice.parse("fill-mask")))
                .isInstanceOf(io.aneforge.model.AbsentHeadException.class)
                .hasMessageContaining("--head fill-mask: config.json names MPNetForMaskedLM, but this checkpoint holds"
                        + " none of its fill-mask head's tensors (missing: lm_head.dense.weight, lm_head.dense.bias,"
                        + " lm_head.layer_norm.weight, lm_head.layer_norm.bias, lm_head.bias): its weights are the base model's alone:"
                        + " pass --head none");
    }

    @Test
    void mpnetHasNoTokenTypes() throws Exception {
        Path snapshot = checkpoint(dir.resolve("mpnet-tt"), "mpnet", "MPNetModel", 9);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        assertThatThrownBy(model::withTokenTypeInput).hasMessageContaining("mpnet model has no token types");
    }

    @Test
    void mpnetWithoutItsBiasTableIsRefused() throws Exception {
        Path snapshot = checkpoint(dir.resolve("mpnet-nobias"), "mpnet", "MPNetModel", 9);
        RawSafetensors st = new RawSafetensors();
        SplittableRandom random = new SplittableRandom(1);
        for (ExpectedTensor t : ArchitectureConfigs.parse(snapshot.resolve("config.json")).expectedTensors()) {
            if (!t.name().equals(MpnetConfig.RELATIVE_BIAS)) {
                add(st, random, "mpnet." + t.name(), t.name().contains("LayerNorm"), t.shape());
            }
        }
        st.metadata("{\"format\":\"pt\"}").write(snapshot.resolve("model.safetensors"));
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(snapshot, null)))
                .isInstanceOf(ModelImportException.class).hasMessageContaining(MpnetConfig.RELATIVE_BIAS);
    }

    /**
     * XLM-RoBERTa with its SentencePiece Unigram tokenizer (native only) through what convert runs: the fixed samples
     * tokenized, the golden run of the FP32 graph on their prefix, an ane FP16 package at the default iOS 16 target
     * written, read back and compared with the golden data on the real tokens. Skipped where DJL's native library does
     * not load, as the Java tokenizer refuses Unigram.
     */
    @Test
    void xlmRobertaWithItsUnigramTokenizerConvertsAndMatchesItsGoldenRun() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.aneforge.tokenizer.NativeTokenizer.isAvailable(),
                "the native tokenizer does not load here");
        Path snapshot = checkpoint(dir.resolve("xlmr-unigram"), "xlm-roberta", "XLMRobertaModel", 19);
        Files.writeString(snapshot.resolve("tokenizer.json"), io.aneforge.testsupport.models.TinyTokenizers.unigramJson());
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        List<Map<String, FloatTensor>> full;
        try (io.aneforge.tokenizer.Tokenizer tok = io.aneforge.tokenizer.Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            assertThat(tok.implementation()).containsIgnoringCase("native");
            assertThat(tok.maxTokenId()).isLessThan(model.config().vocabSize()); // what convert checks
            List<String> samples = new java.util.ArrayList<>(List.of("hello world", "world hello hello"));
            samples.addAll(Samples.fixed().subList(0, 6));
            full = Golden.inputs(tok, samples, SEQ);
        }
        // the Unigram pieces, not only <unk>: "hello world" is <s> ▁hello ▁world </s>
        assertThat(java.util.Arrays.copyOf(full.get(0).get("input_ids").data(), 5)).containsExactly(0, 4, 5, 2, 1);
        SamplePrefix prefix = SamplePrefix.of(full);
        io.aneforge.eval.GoldenOutputs golden = Golden.compute(model, prefix, ProgramEvaluator.runtime());
        VariantSpec spec = new VariantSpec("A17_PRO", io.aneforge.recipe.Recipe.DEFAULT_MINIMUM_TARGET, Layout.ANE,
                Precision.FP16, SEQ, 0);
        ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve("xlmr-unigram-" + spec.id()));
        List<Map<String, FloatTensor>> outs = prefix.runRealTokens(MlPackage.read(cv.packageDir()),
                ProgramEvaluator.runtime());
        Map<String, io.aneforge.eval.FidelityReport> f = VariantFidelity.realTokens(golden, outs, prefix.inputs());
        assertThat(f).containsOnlyKeys("last_hidden_state", "pooler_output");
        System.out.printf(Locale.ROOT, "xlm-roberta unigram ane fp16: mean cosine %.6f%n",
                f.get("last_hidden_state").cosineMean());
        assertThat(f.values()).allSatisfy(r -> assertThat(r.cosineMin()).isGreaterThanOrEqualTo(0.999));
    }

    // ------------------------------------------------------------------ transformers' own weight names

    /**
     * {@code MPNetModel(config).state_dict()} for a 1-layer config, written here from transformers' modeling_mpnet.py
     * (not from {@link MpnetConfig#expectedTensors}): registration order, {@code nn.Linear(in, out).weight} is
     * {@code [out, in]}, {@code nn.Embedding(n, d).weight} {@code [n, d]}; {@code embeddings.position_ids} is a
     * non-persistent buffer (older saves hold it; the importer ignores it).
     */
    static Map<String, int[]> mpnetModelStateDict() {
        Map<String, int[]> m = new LinkedHashMap<>();
        putEmbeddings(m, false);
        putLayer0(m, "attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm");
        m.put("encoder.relative_attention_bias.weight", new int[] {32, HEADS});
        putLinear(m, "pooler.dense", HIDDEN, HIDDEN);
        return m;
    }

    /**
     * {@code XLMRobertaModel(config).state_dict()} for a 1-layer config, from transformers' modeling_xlm_roberta.py
     * (RoBERTa's modules copied): {@code position_ids} and {@code token_type_ids} are non-persistent buffers.
     */
    static Map<String, int[]> xlmRobertaModelStateDict() {
        Map<String, int[]> m = new LinkedHashMap<>();
        putEmbeddings(m, true);
        putLayer0(m, "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "attention.output.LayerNorm");
        putLinear(m, "pooler.dense", HIDDEN, HIDDEN);
        return m;
    }

    /** The embeddings' state_dict entries (one token type where the model has them). */
    private static void putEmbeddings(Map<String, int[]> m, boolean tokenTypes) {
        m.put("embeddings.word_embeddings.weight", new int[] {VOCAB, HIDDEN});
        m.put("embeddings.position_embeddings.weight", new int[] {SEQ + 2, HIDDEN});
        if (tokenTypes) {
            m.put("embeddings.token_type_embeddings.weight", new int[] {1, HIDDEN});
        }
        putLayerNorm(m, "embeddings.LayerNorm");
    }

    /** Layer 0's entries: the family's attention modules, then the feed-forward modules both families name alike. */
    private static void putLayer0(Map<String, int[]> m, String query, String key, String value, String output,
                                  String attentionNorm) {
        String p = "encoder.layer.0.";
        for (String projection : List.of(query, key, value, output)) {
            putLinear(m, p + projection, HIDDEN, HIDDEN);
        }
        putLayerNorm(m, p + attentionNorm);
        putLinear(m, p + "intermediate.dense", FFN, HIDDEN);
        putLinear(m, p + "output.dense", HIDDEN, FFN);
        putLayerNorm(m, p + "output.LayerNorm");
    }

    /** {@code nn.Linear(in, out)}: weight {@code [out, in]}, bias {@code [out]}. */
    private static void putLinear(Map<String, int[]> m, String module, int out, int in) {
        m.put(module + ".weight", new int[] {out, in});
        m.put(module + ".bias", new int[] {out});
    }

    /** {@code nn.LayerNorm(h)}: weight and bias {@code [h]}. */
    private static void putLayerNorm(Map<String, int[]> m, String module) {
        m.put(module + ".weight", new int[] {HIDDEN});
        m.put(module + ".bias", new int[] {HIDDEN});
    }

    /**
     * The tensors the importer expects are transformers' state_dict keys and shapes, and a checkpoint written from
     * those literals (as {@code MPNetModel.save_pretrained} / {@code XLMRobertaModel.save_pretrained} write it: no
     * prefix; an older MPNet save's {@code embeddings.position_ids} buffer too) imports and matches the plain loop, so
     * a wrong weight name in the code under test fails here, not only in a fixture written from it.
     */
    @ParameterizedTest
    @CsvSource({"mpnet,MPNetModel", "xlm-roberta,XLMRobertaModel"})
    void expectedTensorsAreTransformersStateDictKeys(String type, String architecture) throws Exception {
        Path snapshot = checkpoint(dir.resolve("literal-" + type), type, architecture, 17);
        Files.writeString(snapshot.resolve("config.json"), Files.readString(snapshot.resolve("config.json"))
                .replace("\"num_hidden_layers\": " + LAYERS, "\"num_hidden_layers\": 1"));
        Map<String, int[]> stateDict = type.equals("mpnet") ? mpnetModelStateDict() : xlmRobertaModelStateDict();
        Map<String, List<Integer>> expected = new LinkedHashMap<>();
        for (ExpectedTensor t : ArchitectureConfigs.parse(snapshot.resolve("config.json")).expectedTensors()) {
            expected.put(t.name(), java.util.Arrays.stream(t.shape()).boxed().toList());
        }
        Map<String, List<Integer>> literal = new LinkedHashMap<>();
        stateDict.forEach((name, shape) -> literal.put(name, java.util.Arrays.stream(shape).boxed().toList()));
        assertThat(expected).isEqualTo(literal);

        RawSafetensors st = new RawSafetensors();
        SplittableRandom random = new SplittableRandom(17);
        stateDict.forEach((name, shape) -> {
            if (name.equals(MpnetConfig.RELATIVE_BIAS)) {
                addScaled(st, random, name, 4, shape);
            } else {
                add(st, random, name, name.contains("LayerNorm"), shape);
            }
        });
        if (type.equals("mpnet")) {
            st.raw("embeddings.position_ids", "I64", new byte[8 * (SEQ + 2)], 1, SEQ + 2);
        }
        st.metadata("{\"format\":\"pt\"}").write(snapshot.resolve("model.safetensors"));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        assertThat(model.weights().keySet()).containsExactlyInAnyOrderElementsOf(stateDict.keySet());
        Map<String, FloatTensor> in = inputs(REAL);
        Map<String, FloatTensor> want = Plain.forward(model, ids(in), REAL, true);
        Map<String, FloatTensor> got = ProgramEvaluator.runtime().run(VariantConverter.build(model,
                new VariantSpec("A17_PRO", Target.IOS18, Layout.STANDARD, Precision.FP32, SEQ, 0)).program(), in);
        for (String out : want.keySet()) {
            assertThat(cosineOnRealTokens(want.get(out), got.get(out), REAL, SEQ)).as(out).isGreaterThanOrEqualTo(0.9999);
        }
    }

    // ------------------------------------------------------------------ fixtures

    /** A checkpoint as transformers saves it: the base model under its prefix ({@code roberta.}, {@code mpnet.}). */
    static Path checkpoint(Path dir, String type, String architecture, long seed) throws Exception {
        Files.createDirectories(dir);
        boolean mpnet = type.equals("mpnet");
        boolean classifier = architecture.endsWith("SequenceClassification") || architecture.endsWith("TokenClassification");
        String labels = classifier ? "\"id2label\": {\"0\": \"A\", \"1\": \"B\", \"2\": \"C\"}, " : "";
        String config = mpnet ? String.format(Locale.ROOT, """
                {"architectures": ["%s"], "model_type": "mpnet", %s"vocab_size": %d, "hidden_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "intermediate_size": %d,
                 "max_position_embeddings": %d, "layer_norm_eps": 1e-05, "hidden_act": "gelu",
                 "relative_attention_num_buckets": 32, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}
                """, architecture, labels, VOCAB, HIDDEN, LAYERS, HEADS, FFN, SEQ + 2)
                : String.format(Locale.ROOT, """
                {"architectures": ["%s"], "model_type": "%s", %s"vocab_size": %d, "hidden_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "intermediate_size": %d,
                 "max_position_embeddings": %d, "type_vocab_size": 1, "layer_norm_eps": 1e-05, "hidden_act": "gelu",
                 "pad_token_id": 1, "position_embedding_type": "absolute"}
                """, architecture, type, labels, VOCAB, HIDDEN, LAYERS, HEADS, FFN, SEQ + 2);
        Files.writeString(dir.resolve("config.json"), config);
        Files.writeString(dir.resolve("tokenizer.json"), io.aneforge.testsupport.models.TinyTokenizers.wordPieceJson());
        SplittableRandom random = new SplittableRandom(seed);
        RawSafetensors st = new RawSafetensors();
        String prefix = mpnet ? "mpnet." : "roberta.";
        boolean base = architecture.endsWith("Model");
        for (ExpectedTensor t : ArchitectureConfigs.parse(dir.resolve("config.json")).expectedTensors()) {
            if (t.name().startsWith("pooler.") && !base) {
                continue; // the head models build their base model without the pooler (add_pooling_layer=False)
            }
            boolean norm = t.name().contains("LayerNorm");
            if (t.name().equals(MpnetConfig.RELATIVE_BIAS)) {
                addScaled(st, random, prefix + t.name(), 4, t.shape()); // ±2: a bias the scores feel
            } else {
                add(st, random, prefix + t.name(), norm, t.shape());
            }
        }
        if (architecture.endsWith("SequenceClassification")) {
            add(st, random, "classifier.dense.weight", false, HIDDEN, HIDDEN);
            add(st, random, "classifier.dense.bias", false, HIDDEN);
            add(st, random, "classifier.out_proj.weight", false, 3, HIDDEN);
            add(st, random, "classifier.out_proj.bias", false, 3);
        } else if (architecture.endsWith("TokenClassification")) {
            add(st, random, "classifier.weight", false, 3, HIDDEN);
            add(st, random, "classifier.bias", false, 3);
        } else if (architecture.endsWith("MaskedLM")) {
            // RobertaLMHead / MPNetLMHead; the decoder is tied to the word embeddings, its bias saved as lm_head.bias
            add(st, random, "lm_head.dense.weight", false, HIDDEN, HIDDEN);
            add(st, random, "lm_head.dense.bias", false, HIDDEN);
            add(st, random, "lm_head.layer_norm.weight", true, HIDDEN);
            add(st, random, "lm_head.layer_norm.bias", true, HIDDEN);
            add(st, random, "lm_head.bias", false, VOCAB);
        }
        st.metadata("{\"format\":\"pt\"}").write(dir.resolve("model.safetensors"));
        return dir;
    }

    /** {@code real} random token ids (never 1, the padding id), then padding id 1 with mask 0. */
    static Map<String, FloatTensor> inputs(int real) {
        return PlainLoops.paddedInputs(SEQ, real, VOCAB);
    }

    /**
     * The smallest cosine over the real tokens of a per-token output {@code (1, S, ...)} (the padded positions'
     * outputs depend on how each side numbers their positions, and nothing reads them), or of the whole output.
     */
    static double cosineOnRealTokens(FloatTensor want, FloatTensor got, int real, int seq) {
        assertThat(got.shape()).containsExactly(want.shape());
        boolean perToken = want.shape().length >= 2 && want.shape()[1] == seq;
        int rows = perToken ? real : 1;
        int width = perToken ? want.size() / seq : want.size();
        double min = 1;
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            double na = 0;
            double nb = 0;
            for (int j = 0; j < width; j++) {
                double a = want.data()[r * width + j];
                double b = got.data()[r * width + j];
                dot += a * b;
                na += a * a;
                nb += b * b;
            }
            min = Math.min(min, dot / Math.sqrt(na * nb));
        }
        return min;
    }

    /**
     * transformers' forward passes in plain double loops (eval mode: dropout is the identity; masked keys get -inf):
     * {@code RobertaModel} (XLM-RoBERTa, CamemBERT) and {@code MPNetModel} with their heads.
     */
    static final class Plain {
        static Map<String, FloatTensor> forward(ImportedModel m, int[] ids, int real, boolean relativeBias) {
            boolean mpnet = m.config() instanceof MpnetConfig;
            String act = mpnet ? ((MpnetConfig) m.config()).hiddenAct() : ((io.aneforge.model.BertConfig) m.config()).hiddenAct();
            double eps = mpnet ? ((MpnetConfig) m.config()).layerNormEps()
                    : ((io.aneforge.model.BertConfig) m.config()).layerNormEps();
            int s = ids.length;
            int h = m.config().hiddenSize();
            // create_position_ids_from_input_ids(input_ids, padding_idx=1): cumsum of the non-padding mask, plus 1
            int[] positions = new int[s];
            int count = 0;
            for (int t = 0; t < s; t++) {
                count += ids[t] != 1 ? 1 : 0;
                positions[t] = ids[t] != 1 ? count + 1 : 1;
            }
            double[][] x = embeddings(m, ids, positions, mpnet ? null : new int[s]); // one token type, row 0
            x = norm(m, x, "embeddings.LayerNorm", eps);
            int heads = m.config().numHeads();
            int d = h / heads;
            // MPNetEncoder.compute_position_bias: relative_attention_bias(relative_position_bucket(k - q)), (H, S, S)
            double[][][] bias = new double[heads][s][s];
            if (mpnet && relativeBias) {
                float[] table = m.weight("encoder.relative_attention_bias.weight").data();
                for (int q = 0; q < s; q++) {
                    for (int k = 0; k < s; k++) {
                        int bucket = bucket(k - q);
                        for (int hd = 0; hd < heads; hd++) {
                            bias[hd][q][k] = table[bucket * heads + hd];
                        }
                    }
                }
            }
            for (int l = 0; l < m.config().numLayers(); l++) {
                String p = "encoder.layer." + l + ".";
                double[][] q = dense(m, x, p + (mpnet ? "attention.attn.q" : "attention.self.query"));
                double[][] k = dense(m, x, p + (mpnet ? "attention.attn.k" : "attention.self.key"));
                double[][] v = dense(m, x, p + (mpnet ? "attention.attn.v" : "attention.self.value"));
                double[][] ctx = attention(q, k, v, heads,
                        (hd, qi, ki, dot) -> ki >= real ? Double.NEGATIVE_INFINITY : dot / Math.sqrt(d) + bias[hd][qi][ki]);
                double[][] a = dense(m, ctx, p + (mpnet ? "attention.attn.o" : "attention.output.dense"));
                x = norm(m, PlainLoops.add(a, x), p + (mpnet ? "attention.LayerNorm" : "attention.output.LayerNorm"), eps);
                double[][] f = activation(dense(m, x, p + "intermediate.dense"), act);
                f = dense(m, f, p + "output.dense");
                x = norm(m, PlainLoops.add(f, x), p + "output.LayerNorm", eps);
            }
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            if (m.head() == null) {
                out.put("last_hidden_state", tensor(x, 1, s, h));
                if (m.weights().containsKey("pooler.dense.weight")) {
                    double[][] pooled = tanh(dense(m, new double[][] {x[0]}, "pooler.dense"));
                    out.put("pooler_output", tensor(pooled, 1, h));
                }
                return out;
            }
            switch (m.head().kind()) {
                case SEQUENCE_CLASSIFICATION -> { // RobertaClassificationHead / MPNetClassificationHead on <s>
                    double[][] hidden = tanh(dense(m, new double[][] {x[0]}, "classifier.dense"));
                    out.put("logits", tensor(dense(m, hidden, "classifier.out_proj"), 1, 3));
                }
                case TOKEN_CLASSIFICATION -> out.put("logits", tensor(dense(m, x, "classifier"), 1, s, 3));
                case MASKED_LM -> { // RobertaLMHead / MPNetLMHead: dense, exact gelu, layer_norm, tied decoder + bias
                    double[][] t = norm(m, gelu(dense(m, x, "lm_head.dense")), "lm_head.layer_norm", eps);
                    float[] word = m.weight("embeddings.word_embeddings.weight").data();
                    double[][] logits = decode(t, word, m.weight("lm_head.bias").data());
                    int vocab = word.length / h;
                    out.put("logits", tensor(logits, 1, s, vocab));
                }
                default -> throw new IllegalStateException("no plain loop for " + m.head().kind());
            }
            return out;
        }

        /**
         * MPNetEncoder.relative_position_bucket(relative_position, num_buckets=32, max_distance=128), as written there:
         * {@code n = -relative_position}; half the buckets for n < 0; |n| below 8 exact, else
         * {@code 8 + long(log(n / 8) / log(128 / 8) * 8)} (float32, as torch computes it) capped at 15.
         */
        static int bucket(int relativePosition) {
            int ret = 0;
            int n = -relativePosition;
            int numBuckets = 32 / 2;
            ret += n < 0 ? numBuckets : 0;
            n = Math.abs(n);
            int maxExact = numBuckets / 2;
            if (n < maxExact) {
                return ret + n;
            }
            float logRatio = (float) Math.log((float) n / maxExact);
            long large = maxExact + (long) (logRatio / (float) Math.log(128.0 / maxExact) * (numBuckets - maxExact));
            return ret + (int) Math.min(large, numBuckets - 1);
        }
    }


    /** The bucket indices the graph stores are transformers' (checked against known values in MpnetConfigTest). */
    @Test
    void graphBucketsAreThePlainLoops() {
        int[] buckets = MpnetConfig.positionBuckets(SEQ);
        for (int q = 0; q < SEQ; q++) {
            for (int k = 0; k < SEQ; k++) {
                assertThat(buckets[q * SEQ + k]).as("q %d k %d", q, k).isEqualTo(Plain.bucket(k - q));
            }
        }
        assertThat(List.of(buckets[SEQ - 1], buckets[(SEQ - 1) * SEQ])).containsExactly(31, 15);
    }
}

package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.graph.Graphs;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.MilException;
import io.aneforge.mil.Program;
import io.aneforge.mil.ProgramValidator;
import io.aneforge.mil.SequencePrefix;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.PackedWeights;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.runtime.reference.ReferenceRuntime;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sequence prefixes fidelity runs on ({@link SamplePrefix}, {@link SequencePrefix}), each sample on its own
 * rounded length, give the whole program's floats on every real token, as every sample on the longest one's prefix
 * does ({@link SamplePrefix#common}): checked bit for bit on packages read back from disk, for the real
 * all-MiniLM-L6-v2 in both layouts and every precision family, with the fidelity reports of both paths equal. So
 * any prefix lengths {@link SamplePrefix#of} picks (a length shared by too few samples merged into a longer one) give
 * the same numbers.
 */
class SamplePrefixTest {

    @TempDir
    Path dir;

    @Test
    void miniLmPrefixOutputsAreTheWholeProgramsFloatsOnRealTokens() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("minilm"));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> full;
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            full = Golden.inputs(tok, Samples.fixed().subList(0, 8), 128);
        }
        SamplePrefix prefix = SamplePrefix.of(full, 1);
        SamplePrefix common = SamplePrefix.common(full);
        // the 8 default samples' last real tokens are at 5, 12, 17, 17, 9, 23, 18 and 21
        assertThat(prefix.lengths()).containsExactly(16, 16, 32, 32, 16, 32, 32, 32);
        // by default the 3 that fit 16 positions, fewer than a prediction group, run on 32 with the others
        assertThat(SamplePrefix.of(full).lengths()).containsExactly(common.lengths());
        assertThat(common.lengths()).containsOnly(32);
        assertThat(prefix.longest()).isEqualTo(32);
        assertThat(prefix.inputs().get(0).get(Graphs.INPUT_IDS).shape()).containsExactly(1, 16);
        assertThat(prefix.inputs().get(2).get(Graphs.INPUT_IDS).shape()).containsExactly(1, 32);

        List<Program> programs = new ArrayList<>();
        programs.add(VariantConverter.build(model, Golden.referenceSpec(128)).program());
        for (Layout layout : Layout.values()) {
            for (String p : List.of("fp16", "int8-channel", "int4-block32-affine")) {
                VariantSpec spec = VariantSpec.of("A17_PRO", Target.IOS18, layout, Precision.parse(p), 128);
                programs.add(MlPackage.read(VariantConverter.convert(model, spec, dir.resolve(spec.id() + ".mlpackage")).packageDir()));
            }
        }
        ProgramEvaluator runtime = ProgramEvaluator.runtime();
        io.aneforge.eval.GoldenOutputs golden = null;
        io.aneforge.eval.GoldenOutputs commonGolden = null;
        for (Program program : programs) {
            for (int length : new int[] {16, 32}) {
                Program cut = SequencePrefix.apply(program, length); // throws (naming the op) where it cannot cut
                assertThat(SamplePrefix.program(program, length)).usingRecursiveComparison().isEqualTo(cut);
                ProgramValidator.validate(cut);
            }
            List<Map<String, FloatTensor>> whole = runtime.runAll(program, full);
            assertSameOnRealTokens(whole, prefix.run(program, runtime), full, prefix.lengths());
            // real-token predictions skip the padded positions' projections: the same floats on real tokens
            List<Map<String, FloatTensor>> realOnly = prefix.runRealTokens(program, runtime);
            assertSameOnRealTokens(whole, realOnly, full, prefix.lengths());
            assertSomePaddedPositionDiffers(whole, realOnly, full);
            // every sample on the longest one's prefix, as before each had its own: the same floats, so the same reports
            List<Map<String, FloatTensor>> commonOnly = common.runRealTokens(program, runtime);
            assertSameOnRealTokens(whole, commonOnly, full, common.lengths());
            if (golden == null) { // the FP32 graph comes first
                golden = Golden.samples(realOnly);
                commonGolden = Golden.samples(commonOnly);
                continue;
            }
            Map<String, io.aneforge.eval.FidelityReport> reports = VariantFidelity.realTokens(golden, realOnly, prefix.inputs());
            assertThat(reports).isNotEmpty()
                    .isEqualTo(VariantFidelity.realTokens(commonGolden, commonOnly, common.inputs()));
        }
    }

    @Test
    void tinyBertWithPoolerInBothLayouts() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("bert"), 5);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> full;
        Calibration calibration;
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            full = Golden.inputs(tok, List.of(Samples.fixed().get(0), Samples.fixed().get(4)), 64);
            calibration = Calibration.measure(model, tok, 64);
        }
        SamplePrefix prefix = SamplePrefix.of(full, 1);
        assertThat(prefix.longest()).isLessThan(64);
        for (Layout layout : Layout.values()) {
            // w8a8: its per-tensor quantize/dequantize pairs are position-wise, so the prefix cuts through them
            for (Precision p : List.of(Precision.FP32, Precision.FP16, Precision.parse("w8a8"))) {
                Program program = VariantConverter.build(model, VariantSpec.of("A17_PRO", Target.IOS18, layout, p, 64),
                        io.aneforge.graph.WeightCache.uncached(calibration)).program();
                if (p.scheme() == Precision.Scheme.W8A8) {
                    assertThat(program.operations()).anyMatch(o -> o.type().equals("quantize"));
                    assertThat(io.aneforge.mil.SequencePrefix.apply(program, prefix.longest()).operations())
                            .anyMatch(o -> o.type().equals("quantize"));
                }
                List<Map<String, FloatTensor>> cut = prefix.run(program, ProgramEvaluator.runtime());
                assertThat(cut.get(0).get("pooler_output").shape()).containsExactly(1, TinyModels.HIDDEN);
                assertThat(cut.get(0).get("last_hidden_state").shape()).containsExactly(1, prefix.lengths()[0],
                        TinyModels.HIDDEN);
                List<Map<String, FloatTensor>> whole = ProgramEvaluator.runtime().runAll(program, full);
                assertSameOnRealTokens(whole, cut, full, prefix.lengths());
                List<Map<String, FloatTensor>> realOnly = prefix.runRealTokens(program, ProgramEvaluator.runtime());
                assertSameOnRealTokens(whole, realOnly, full, prefix.lengths()); // the pooler output included
                assertSomePaddedPositionDiffers(whole, realOnly, full);
            }
        }
    }

    /**
     * The golden data {@code convert} stores: outputs on the real tokens of every fixed sample, laid out at full length
     * ({@link SamplePrefix#fullLength}), hold the whole program's floats on real tokens and 0 elsewhere; cut to the
     * prefix of the first few samples ({@link SamplePrefix#cut}) they are those samples' fidelity golden outputs.
     */
    @Test
    void fullLengthOutputsOfEverySampleServeFewerSamplesToo() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("bert-full"), 7);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> all;
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            // three short texts first, so that their prefix is shorter than that of all of them
            List<String> texts = new ArrayList<>(List.of("hello", "the cat sat", "a b c"));
            texts.addAll(Samples.fixed().subList(0, 8));
            all = Golden.inputs(tok, texts, 64);
        }
        SamplePrefix every = SamplePrefix.of(all);
        ProgramEvaluator runtime = ProgramEvaluator.runtime();
        List<Map<String, FloatTensor>> whole = runtime.runAll(VariantConverter.build(model, Golden.referenceSpec(64)).program(),
                all);
        List<Map<String, FloatTensor>> full = every.fullLength(outputs(Golden.compute(model, every, runtime)));
        assertSameOnRealTokens(whole, full, all, SamplePrefix.whole(all).lengths());
        for (int i = 0; i < all.size(); i++) {
            float[] mask = all.get(i).get(Graphs.ATTENTION_MASK).data();
            FloatTensor h = full.get(i).get(Graphs.LAST_HIDDEN_STATE);
            assertThat(h.shape()).containsExactly(1, 64, TinyModels.HIDDEN);
            assertThat(full.get(i).get(Graphs.POOLER_OUTPUT).shape()).containsExactly(1, TinyModels.HIDDEN);
            for (int p = 0; p < 64; p++) {
                for (int j = 0; mask[p] == 0 && j < TinyModels.HIDDEN; j++) {
                    assertThat(h.data()[p * TinyModels.HIDDEN + j]).as("sample %d padded position %d", i, p).isZero();
                }
            }
        }

        SamplePrefix three = SamplePrefix.of(all.subList(0, 3));
        assertThat(three.longest()).isLessThan(every.longest());
        List<Map<String, FloatTensor>> fromEvery = three.cut(full.subList(0, 3));
        assertThat(fromEvery.get(0).get(Graphs.LAST_HIDDEN_STATE).shape()).containsExactly(1, three.lengths()[0],
                TinyModels.HIDDEN);
        assertSameOnRealTokens(whole.subList(0, 3), fromEvery, all.subList(0, 3), three.lengths());
        assertSameOnRealTokens(whole.subList(0, 3), outputs(Golden.compute(model, three, runtime)), all.subList(0, 3),
                three.lengths());
        assertThatThrownBy(() -> three.cut(full)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sample prefix: " + all.size() + " full-length outputs for 3 samples");

        // The golden data as held (Golden.fullLength: no padding) cuts to the same values without expanding.
        io.aneforge.eval.GoldenOutputs held = Golden.fullLength(model, all, runtime);
        assertThat(outputs(held)).isEqualTo(full);
        io.aneforge.eval.GoldenOutputs heldCut = three.cut(held);
        assertThat(outputs(heldCut)).isEqualTo(fromEvery);
        io.aneforge.eval.GoldenTensor h0 = heldCut.samples().get(0).tensors().get(Graphs.LAST_HIDDEN_STATE);
        float[] mask0 = all.get(0).get(Graphs.ATTENTION_MASK).data();
        int real0 = 0;
        while (real0 < mask0.length && mask0[real0] != 0) real0++;
        assertThat(h0.shape()).containsExactly(1, three.lengths()[0], TinyModels.HIDDEN);
        assertThat(h0.stored()).as("sample 0 holds its real tokens only").hasSize(real0 * TinyModels.HIDDEN);
        assertThat(heldCut.heldBytes()).isLessThan(4L * 3 * three.longest() * TinyModels.HIDDEN);
    }

    private static List<Map<String, FloatTensor>> outputs(io.aneforge.eval.GoldenOutputs golden) {
        return golden.samples().stream().map(io.aneforge.eval.GoldenOutputs.Sample::outputs).toList();
    }

    /** GPT-2's causal mask (an outer product with ones, then band_part) is cut too: logits on real tokens unchanged. */
    @Test
    void causalGpt2InBothLayouts() throws Exception {
        Path snap = TinyModels.gpt2(dir.resolve("gpt2"), 3);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        float[] ids = new float[48];
        float[] mask = new float[48];
        for (int i = 0; i < 5; i++) {
            ids[i] = i + 1;
            mask[i] = 1;
        }
        List<Map<String, FloatTensor>> full = List.of(Map.of(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, 48}, ids),
                Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, 48}, mask)));
        SamplePrefix prefix = SamplePrefix.of(full);
        assertThat(prefix.lengths()).containsExactly(16);
        for (Layout layout : Layout.values()) {
            for (Precision p : List.of(Precision.FP32, Precision.FP16)) {
                Program program = VariantConverter.build(model, VariantSpec.of("A17_PRO", Target.IOS18, layout, p, 48)).program();
                Program cut = SequencePrefix.apply(program, 16);
                ProgramValidator.validate(cut);
                List<Map<String, FloatTensor>> out = prefix.run(program, ProgramEvaluator.runtime());
                assertThat(out.get(0).get(Graphs.LOGITS).shape()).hasSize(3).startsWith(1, 16);
                List<Map<String, FloatTensor>> whole = ProgramEvaluator.runtime().runAll(program, full);
                assertSameOnRealTokens(whole, out, full, prefix.lengths());
                List<Map<String, FloatTensor>> realOnly = prefix.runRealTokens(program, ProgramEvaluator.runtime());
                assertSameOnRealTokens(whole, realOnly, full, prefix.lengths());
                assertSomePaddedPositionDiffers(whole, realOnly, full);
            }
        }
    }

    /** A program the prefix cannot follow runs whole on the full inputs; its outputs come back cut. */
    @Test
    void aProgramThatCannotBeCutRunsWholeWithItsOutputsCut() {
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var ids = b.input(Graphs.INPUT_IDS, DType.INT32, 1, 32);
        Var mask = b.input(Graphs.ATTENTION_MASK, DType.INT32, 1, 32);
        Var x = b.expandDims(b.cast(ids, DType.FP32), 2); // (1, 32, 1)
        Var total = b.reduceMean(x, new int[] {1}, true); // mixes every position: cannot be cut
        Program p = b.build(b.add(b.add(x, total), b.expandDims(b.cast(mask, DType.FP32), 2)));
        assertThatThrownBy(() -> SequencePrefix.apply(p, 16)).isInstanceOf(MilException.class)
                .hasMessageContaining("reduce_mean").hasMessageContaining("run the whole program instead");
        float[] in = new float[32];
        float[] m = new float[32];
        for (int i = 0; i < 32; i++) {
            in[i] = i;
            m[i] = i < 3 ? 1 : 0;
        }
        List<Map<String, FloatTensor>> full = List.of(Map.of(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, 32}, in),
                Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, 32}, m)));
        SamplePrefix prefix = SamplePrefix.of(full, 1);
        assertThat(SamplePrefix.program(p, 16)).isSameAs(p);
        FloatTensor out = prefix.run(p, ProgramEvaluator.runtime()).get(0).values().iterator().next();
        assertThat(out.shape()).containsExactly(1, 16, 1);
        assertThat(out.data()[0]).isEqualTo(0 + 15.5f + 1); // the mean over all 32 positions, as the whole program computes

        // samples of two prefix lengths: still one whole run, each sample's outputs cut to its own prefix
        float[] longer = new float[32];
        java.util.Arrays.fill(longer, 0, 20, 1);
        List<Map<String, FloatTensor>> two = List.of(full.get(0), Map.of(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, 32}, in),
                Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, 32}, longer)));
        Counting counting = new Counting(ProgramEvaluator.runtime());
        List<Map<String, FloatTensor>> outs = SamplePrefix.of(two, 1).run(p, counting);
        assertThat(counting.runs).containsExactly("32 positions, samples of [3, 20] real tokens");
        assertThat(outs.get(0).values().iterator().next().shape()).containsExactly(1, 16, 1);
        assertThat(outs.get(1).values().iterator().next().shape()).containsExactly(1, 32, 1);
        assertThat(outs.get(1).values().iterator().next().data()[19]).isEqualTo(19 + 15.5f + 1);
    }

    /**
     * Each prefix length's program is cut once and loaded once, for all its samples, shortest first; the outputs come
     * back in sample order, and one sample at a time ({@code chunk} 1) they are the same floats.
     */
    @Test
    void oneProgramPerDistinctLengthWithTheOutputsInSampleOrder() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("bert-lengths"), 11);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> full = List.of(sample(64, 20), sample(64, 3), sample(64, 40), sample(64, 16),
                sample(64, 33));
        SamplePrefix prefix = SamplePrefix.of(full, 1);
        assertThat(prefix.lengths()).containsExactly(32, 16, 48, 16, 48);
        assertThat(SamplePrefix.of(full).lengths()).containsOnly(48); // no length has a prediction group's 8 samples
        Program program = VariantConverter.build(model, VariantSpec.of("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP16,
                64)).program();
        Counting counting = new Counting(ProgramEvaluator.runtime());
        List<Map<String, FloatTensor>> outs = prefix.runRealTokens(program, counting);
        assertThat(counting.runs).containsExactly("16 positions, samples of [3, 16] real tokens",
                "32 positions, samples of [20] real tokens", "48 positions, samples of [40, 33] real tokens");
        List<Map<String, FloatTensor>> whole = ProgramEvaluator.runtime().runAll(program, full);
        assertSameOnRealTokens(whole, outs, full, prefix.lengths());

        Map<Integer, Map<String, FloatTensor>> one = new java.util.TreeMap<>();
        List<Integer> order = new ArrayList<>();
        prefix.runRealTokens(program, ProgramEvaluator.runtime(), 1, (o, i) -> {
            order.add(i);
            one.put(i, o);
        });
        assertThat(order).containsExactly(1, 3, 0, 2, 4);
        assertSameOnRealTokens(whole, List.copyOf(one.values()), full, prefix.lengths());
        assertThatThrownBy(() -> prefix.runRealTokens(program, ProgramEvaluator.runtime(), 0, (o, i) -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chunk of 0");
    }

    /**
     * The prefix programs of one program keep its weight ops, so one set of {@code PackedWeights} packs each weight
     * once for all of them (what {@link SamplePrefix} does with more than one length, for the golden pass's 16, 32
     * and 64 positions): a second and third length pack nothing, in both layouts (the linear's packed B, the 1×1
     * conv's packed A), and predict the same floats as programs loaded on their own.
     */
    @Test
    void theProgramsOfSeveralLengthsPackEachWeightOnce() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("bert-packs"), 13);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        Map<String, FloatTensor> full = sample(64, 12);
        for (Precision precision : List.of(Precision.FP32, Precision.FP16, Precision.parse("int8-block32"))) {
            for (Layout layout : Layout.values()) {
                Program program = VariantConverter.build(model, VariantSpec.of("A17_PRO", Target.IOS18, layout, precision,
                        64)).program();
                RuntimeOptions options = new RuntimeOptions("cpuOnly",
                        ProgramEvaluator.computesInFp16(program), 0);
                PackedWeights packs = new PackedWeights();
                int first = -1;
                for (int length : new int[] {16, 32, 48}) {
                    Program cut = SamplePrefix.program(program, length);
                    assertThat(SequencePrefix.seqLen(cut)).isEqualTo(length);
                    Map<String, FloatTensor> cutIn = new java.util.LinkedHashMap<>();
                    full.forEach((name, t) -> cutIn.put(name, new FloatTensor(new int[] {1, length},
                            java.util.Arrays.copyOf(t.data(), length))));
                    Map<String, FloatTensor> shared;
                    try (ReferenceModel m = ReferenceRuntime
                            .load(cut, options, true, false, packs)) {
                        shared = m.predict(cutIn);
                    }
                    if (first < 0) {
                        first = packs.made();
                        assertThat(first).as("%s %s: weights packed by the first length", layout, precision).isPositive();
                        // the layout's projections: 1×1 convs packed as A, linears as B
                        if (layout == Layout.ANE) {
                            assertThat(packs.made(PackedWeights.Operand.A)).as("%s %s", layout, precision).isPositive();
                        } else {
                            assertThat(packs.made(PackedWeights.Operand.A)).as("%s %s", layout, precision).isZero();
                            assertThat(packs.made(PackedWeights.Operand.B)).as("%s %s", layout, precision).isPositive();
                        }
                    } else {
                        assertThat(packs.made()).as("%s %s at %d positions", layout, precision, length).isEqualTo(first);
                    }
                    Map<String, FloatTensor> alone;
                    try (ReferenceModel m = ReferenceRuntime
                            .load(cut, options, true, true)) {
                        alone = m.predict(cutIn);
                    }
                    assertThat(shared.keySet()).isEqualTo(alone.keySet());
                    alone.forEach((name, t) -> assertThat(shared.get(name).data()).as("%s %s %s at %d", layout, precision,
                            name, length).containsExactly(t.data()));
                }
            }
        }
    }

    /**
     * The packs are keyed by the weight op's identity, not by what it looks like: two builds of the same model (equal
     * ops, other objects) loaded with one set of packs pack every weight twice, and still predict the same floats.
     */
    @Test
    void separateBuildsOfOneModelDoNotSharePacks() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("bert-builds"), 13);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        Map<String, FloatTensor> in = cutTo(sample(64, 12), 32);
        for (Layout layout : Layout.values()) {
            VariantSpec spec = VariantSpec.of("A17_PRO", Target.IOS18, layout, Precision.FP16, 64);
            Program one = SamplePrefix.program(VariantConverter.build(model, spec).program(), 32);
            Program two = SamplePrefix.program(VariantConverter.build(model, spec).program(), 32);
            assertThat(two).usingRecursiveComparison().isEqualTo(one);
            RuntimeOptions options = new RuntimeOptions("cpuOnly", true, 0);
            try (PackedWeights packs = new PackedWeights()) {
                Map<String, FloatTensor> first;
                try (ReferenceModel m = ReferenceRuntime.load(one, options, true, false, packs)) {
                    first = m.predict(in);
                }
                int a = packs.made(PackedWeights.Operand.A);
                int b = packs.made(PackedWeights.Operand.B);
                assertThat(a + b).as("%s", layout).isPositive();
                Map<String, FloatTensor> second;
                try (ReferenceModel m = ReferenceRuntime.load(two, options, true, false, packs)) {
                    second = m.predict(in);
                }
                assertThat(packs.made(PackedWeights.Operand.A)).as("%s: A packs", layout).isEqualTo(2 * a);
                assertThat(packs.made(PackedWeights.Operand.B)).as("%s: B packs", layout).isEqualTo(2 * b);
                first.forEach((name, t) -> assertThat(second.get(name).data()).as("%s %s", layout, name)
                        .containsExactly(t.data()));
            }
        }
    }

    /**
     * A load of one group of predictions (packing on use) takes what an earlier load packed into the shared packs but
     * adds nothing, so prefix runs that are all one group each hold no packed copy; after close the packs refuse.
     */
    @Test
    void aOneGroupLoadTakesSharedPacksButHoldsNone() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("bert-onegroup"), 13);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        Program program = VariantConverter.build(model, VariantSpec.of("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP32,
                64)).program();
        RuntimeOptions options = new RuntimeOptions("cpuOnly", false, 0);
        Program p16 = SamplePrefix.program(program, 16);
        Program p32 = SamplePrefix.program(program, 32);
        Map<String, FloatTensor> in16 = cutTo(sample(64, 12), 16);
        Map<String, FloatTensor> in32 = cutTo(sample(64, 12), 32);
        PackedWeights packs = new PackedWeights();
        Map<String, FloatTensor> onUse;
        try (ReferenceModel m = ReferenceRuntime.load(p16, options, true, true, packs)) {
            onUse = m.predict(in16);
        }
        assertThat(packs.made()).as("one group, nothing held yet").isZero();
        try (ReferenceModel m = ReferenceRuntime.load(p32, options, true, false, packs)) {
            m.predict(in32);
        }
        int made = packs.made();
        assertThat(made).isPositive();
        try (ReferenceModel m = ReferenceRuntime.load(p16, options, true, true, packs)) {
            Map<String, FloatTensor> held = m.predict(in16);
            onUse.forEach((name, t) -> assertThat(held.get(name).data()).as(name).containsExactly(t.data()));
        }
        assertThat(packs.made()).as("one group after the packs were made").isEqualTo(made);
        packs.close();
        assertThatThrownBy(() -> ReferenceRuntime.load(p16, options, true, true, packs))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    /**
     * SamplePrefix's wiring: with several lengths one {@link ProgramEvaluator.Sharing} is asked for, every length
     * runs on its evaluator and it is closed once, after the last; with one length none is asked for. The reference
     * runtime's sharing evaluator is its own (closing it makes it refuse further programs) and predicts the floats of
     * the plain runtime.
     */
    @Test
    void severalLengthsRunOnOneSharingClosedOnceAndOneLengthOnNone() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("bert-sharing"), 11);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> full = List.of(sample(64, 20), sample(64, 3), sample(64, 40), sample(64, 16),
                sample(64, 33));
        Program program = VariantConverter.build(model, VariantSpec.of("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP16,
                64)).program();
        Sharer sharer = new Sharer(ProgramEvaluator.runtime());
        SamplePrefix prefix = SamplePrefix.of(full, 1);
        List<Map<String, FloatTensor>> shared = prefix.runRealTokens(program, sharer);
        assertThat(sharer.sharings).hasSize(1);
        assertThat(sharer.runs).containsExactly("shared 1 at 16", "shared 1 at 32", "shared 1 at 48");
        assertThat(sharer.closes).containsExactly("shared 1 after 3 runs");
        List<Map<String, FloatTensor>> plain = prefix.runRealTokens(program, ProgramEvaluator.runtime());
        for (int i = 0; i < full.size(); i++) {
            Map<String, FloatTensor> p = plain.get(i);
            shared.get(i).forEach((name, t) -> assertThat(t.data()).as(name).containsExactly(p.get(name).data()));
        }
        ProgramEvaluator inner = sharer.sharings.get(0).evaluator();
        assertThatThrownBy(() -> inner.runAll(SamplePrefix.program(program, 16), List.of(prefix.inputs().get(1))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");

        Sharer one = new Sharer(ProgramEvaluator.runtime());
        SamplePrefix.common(full).runRealTokens(program, one);
        assertThat(one.sharings).isEmpty();
        assertThat(one.runs).containsExactly("plain at 48");
        assertThat(one.closes).isEmpty();
    }

    /** An evaluator that records its runs, the sharings asked of it (their runs) and their closes. */
    private static final class Sharer implements ProgramEvaluator {
        final ProgramEvaluator delegate;
        final List<String> runs = new ArrayList<>();
        final List<ProgramEvaluator.Sharing> sharings = new ArrayList<>();
        final List<String> closes = new ArrayList<>();

        Sharer(ProgramEvaluator delegate) {
            this.delegate = delegate;
        }

        @Override
        public List<Map<String, FloatTensor>> runAll(Program program, List<Map<String, FloatTensor>> inputs) {
            throw new AssertionError("SamplePrefix runs through runEach");
        }

        @Override
        public void runEach(Program program, List<Map<String, FloatTensor>> inputs, int[] realLengths, int chunk,
                            java.util.function.ObjIntConsumer<Map<String, FloatTensor>> each) {
            runs.add("plain at " + SequencePrefix.seqLen(program));
            delegate.runEach(program, inputs, realLengths, chunk, each);
        }

        @Override
        public Sharing sharingWeights() {
            Sharing inner = delegate.sharingWeights();
            assertThat(inner.evaluator()).as("the runtime's sharing evaluator is one of its own").isNotSameAs(delegate);
            sharings.add(inner);
            String name = "shared " + sharings.size();
            ProgramEvaluator recording = new ProgramEvaluator() {
                @Override
                public List<Map<String, FloatTensor>> runAll(Program program, List<Map<String, FloatTensor>> inputs) {
                    throw new AssertionError("SamplePrefix runs through runEach");
                }

                @Override
                public void runEach(Program program, List<Map<String, FloatTensor>> inputs, int[] realLengths, int chunk,
                                    java.util.function.ObjIntConsumer<Map<String, FloatTensor>> each) {
                    runs.add(name + " at " + SequencePrefix.seqLen(program));
                    inner.evaluator().runEach(program, inputs, realLengths, chunk, each);
                }
            };
            return new Sharing(recording, () -> {
                closes.add(name + " after " + runs.size() + " runs");
                inner.close();
            });
        }
    }

    private static Map<String, FloatTensor> cutTo(Map<String, FloatTensor> full, int length) {
        Map<String, FloatTensor> cut = new java.util.LinkedHashMap<>();
        full.forEach((name, t) -> cut.put(name, new FloatTensor(new int[] {1, length}, java.util.Arrays.copyOf(t.data(), length))));
        return cut;
    }

    /** An evaluator that records each run: the program's sequence length and its samples' real token counts. */
    private static final class Counting implements ProgramEvaluator {
        final ProgramEvaluator delegate;
        final List<String> runs = new ArrayList<>();

        Counting(ProgramEvaluator delegate) {
            this.delegate = delegate;
        }

        @Override
        public List<Map<String, FloatTensor>> runAll(Program program, List<Map<String, FloatTensor>> inputs) {
            return delegate.runAll(program, inputs);
        }

        @Override
        public void runEach(Program program, List<Map<String, FloatTensor>> inputs, int[] realLengths, int chunk,
                            java.util.function.ObjIntConsumer<Map<String, FloatTensor>> each) {
            List<Integer> real = new ArrayList<>();
            for (Map<String, FloatTensor> in : inputs) {
                int n = 0;
                for (float m : in.get(Graphs.ATTENTION_MASK).data()) {
                    n += m != 0 ? 1 : 0;
                }
                real.add(n);
            }
            runs.add(SequencePrefix.seqLen(program) + " positions, samples of " + real + " real tokens");
            delegate.runEach(program, inputs, realLengths, chunk, each);
        }
    }

    /** A constant projection whose width happens to be S keeps its width: only an outer product spreads the sequence. */
    @Test
    void aProjectionAsWideAsTheSequenceIsNotMistakenForIt() {
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var ids = b.input(Graphs.INPUT_IDS, DType.INT32, 1, 32);
        float[] w = new float[4 * 32];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 7) - 3;
        }
        Var x = b.mul(b.expandDims(b.cast(ids, DType.FP32), 2), b.constant(io.aneforge.mil.Constant.fp32(new float[] {1, 2, 3, 4}, 4)));
        Program p = b.build(b.matmul(x, b.constant("w", io.aneforge.mil.Constant.fp32(w, 4, 32)), false, false)); // (1, 32, 4) x (4, 32)
        Program cut = SequencePrefix.apply(p, 16);
        assertThat(cut.outputs().get(0).shape()).containsExactly(1, 16, 32);
        float[] in = new float[32];
        for (int i = 0; i < 32; i++) {
            in[i] = i;
        }
        FloatTensor whole = runOnIds(p, in);
        FloatTensor part = runOnIds(cut, java.util.Arrays.copyOf(in, 16));
        assertThat(part.data()).containsExactly(java.util.Arrays.copyOf(whole.data(), 16 * 32));
    }

    @Test
    void constantsSpanningTheSequenceAreSlicedAndShapesFollow() {
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var ids = b.input(Graphs.INPUT_IDS, DType.INT32, 1, 64);
        float[] rows = new float[64 * 3];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        Var pos = b.constant("rows", io.aneforge.mil.Constant.fp32(rows, 64, 3));
        Var x = b.add(b.expandDims(b.cast(ids, DType.FP32), 2), pos); // (1, 64, 1) + (64, 3) -> (1, 64, 3)
        Var y = b.reshape(b.transpose(x, 0, 2, 1), 1, 3, 1, 64);
        Program p = b.build(y);
        Program cut = SequencePrefix.apply(p, 16);
        ProgramValidator.validate(cut);
        assertThat(cut.outputs().get(0).shape()).containsExactly(1, 3, 1, 16);
        float[] in = new float[64];
        for (int i = 0; i < 64; i++) {
            in[i] = 100 * i;
        }
        FloatTensor whole = runOnIds(p, in);
        FloatTensor part = runOnIds(cut, java.util.Arrays.copyOf(in, 16));
        for (int c = 0; c < 3; c++) {
            for (int s = 0; s < 16; s++) {
                assertThat(part.data()[c * 16 + s]).isEqualTo(whole.data()[c * 64 + s]).isEqualTo(100f * s + 3 * s + c);
            }
        }
    }

    @Test
    void prefixLengthIsAMultipleOf16CoveringEveryRealToken() {
        assertThat(SamplePrefix.of(List.of(sample(128, 1))).lengths()).containsExactly(16);
        assertThat(SamplePrefix.of(List.of(sample(128, 0))).lengths()).containsExactly(16);
        assertThat(SamplePrefix.of(List.of(sample(128, 16), sample(128, 17)), 1).lengths()).containsExactly(16, 32);
        assertThat(SamplePrefix.of(List.of(sample(128, 16), sample(128, 17))).lengths()).containsExactly(32, 32);
        assertThat(SamplePrefix.common(List.of(sample(128, 16), sample(128, 17))).lengths()).containsExactly(32, 32);
        assertThat(SamplePrefix.of(List.of(sample(128, 16), sample(128, 17)), 1).longest()).isEqualTo(32);
        assertThat(SamplePrefix.of(List.of(sample(40, 39))).lengths()).containsExactly(40); // capped at S
        // a length keeps its own program with a prediction group's 8 samples (counting those carried up to it); fewer
        // run on the next longer length, and the longest keeps whatever reaches it
        List<Map<String, FloatTensor>> mixed = new ArrayList<>();
        for (int real : new int[] {3, 20, 5, 7, 9, 11, 13, 15, 16, 40, 30, 33, 17, 100, 4}) {
            mixed.add(sample(128, real));
        }
        assertThat(SamplePrefix.MIN_SAMPLES_PER_LENGTH).isEqualTo(8);
        assertThat(SamplePrefix.of(mixed).lengths()) // 16: 9 samples; 32: 3 and 48: 2 carried to 112 with the one there
                .containsExactly(16, 112, 16, 16, 16, 16, 16, 16, 16, 112, 112, 112, 112, 112, 16);
        assertThat(SamplePrefix.of(mixed, 3).lengths()) // 32: 3 samples; 48: 2 carried to 112
                .containsExactly(16, 32, 16, 16, 16, 16, 16, 16, 16, 112, 32, 112, 32, 112, 16);
        assertThat(SamplePrefix.whole(List.of(sample(128, 3))).lengths()).containsExactly(128);
        assertThatThrownBy(() -> SamplePrefix.of(List.of(Map.of(Graphs.ATTENTION_MASK, new FloatTensor(new int[] {128}, new float[128])))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(1, S)");
    }

    /** The only output of a program whose only input is (1, ids.length) input_ids. */
    private static FloatTensor runOnIds(Program p, float[] ids) {
        return ProgramEvaluator.runtime().run(p, Map.of(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, ids.length}, ids)))
                .values().iterator().next();
    }

    private static Map<String, FloatTensor> sample(int seqLen, int real) {
        float[] mask = new float[seqLen];
        java.util.Arrays.fill(mask, 0, real, 1f);
        return Map.of(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, seqLen}, new float[seqLen]),
                Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, seqLen}, mask));
    }

    /** Every output: per-token ones equal on the real positions, the others equal whole; float ==, no NaN. */
    /** Shows that the real-token run skipped work: some padded position of a per-token output is not the whole program's. */
    private static void assertSomePaddedPositionDiffers(List<Map<String, FloatTensor>> whole, List<Map<String, FloatTensor>> realOnly,
                                                        List<Map<String, FloatTensor>> fullInputs) {
        for (int i = 0; i < whole.size(); i++) {
            float[] mask = fullInputs.get(i).get(Graphs.ATTENTION_MASK).data();
            for (Map.Entry<String, FloatTensor> e : whole.get(i).entrySet()) {
                FloatTensor w = e.getValue();
                FloatTensor c = realOnly.get(i).get(e.getKey());
                if (w.rank() < 3 || w.shape()[1] != mask.length) {
                    continue;
                }
                int row = w.size() / mask.length;
                for (int p = 0; p < c.shape()[1]; p++) {
                    for (int j = 0; mask[p] == 0 && j < row; j++) {
                        if (w.data()[p * row + j] != c.data()[p * row + j]) {
                            return;
                        }
                    }
                }
            }
        }
        throw new AssertionError("every padded position holds the whole program's floats: nothing was skipped");
    }

    /** Per sample, its cut outputs against the whole program's: {@code lengths[i]} positions, the same floats on real tokens. */
    private static void assertSameOnRealTokens(List<Map<String, FloatTensor>> whole, List<Map<String, FloatTensor>> cut,
                                               List<Map<String, FloatTensor>> fullInputs, int[] lengths) {
        assertThat(cut).hasSameSizeAs(whole);
        for (int i = 0; i < whole.size(); i++) {
            float[] mask = fullInputs.get(i).get(Graphs.ATTENTION_MASK).data();
            int seqLen = mask.length;
            for (Map.Entry<String, FloatTensor> e : whole.get(i).entrySet()) {
                FloatTensor w = e.getValue();
                FloatTensor c = cut.get(i).get(e.getKey());
                assertThat(c).as(e.getKey()).isNotNull();
                boolean perToken = w.rank() >= 3 && w.shape()[1] == seqLen;
                int row = perToken ? w.size() / seqLen : w.size();
                int positions = perToken ? seqLen : 1;
                if (perToken) {
                    assertThat(c.shape()[1]).as("sample %d output %s", i, e.getKey()).isEqualTo(lengths[i]);
                }
                int compared = 0;
                for (int p = 0; p < positions; p++) {
                    if (perToken && mask[p] == 0) {
                        continue;
                    }
                    for (int j = 0; j < row; j++) {
                        float a = w.data()[p * row + j];
                        float b = c.data()[p * row + j];
                        if (a != b || Float.isNaN(a)) {
                            throw new AssertionError("sample " + i + " output " + e.getKey() + " position " + p + " element " + j
                                    + ": whole " + a + ", prefix " + b);
                        }
                        compared++;
                    }
                }
                assertThat(compared).isPositive();
            }
        }
    }
}

package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.graph.Graphs;
import io.aneforge.mil.Program;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Golden#forStorage}: the golden outputs reduced sample by sample as they are computed store the bytes of
 * reducing every sample's outputs at once ({@link HeldPositions#reduce} of {@link Golden#fullLength}, what the worker
 * and {@code convert} stored before), while no more than one sample's outputs are computed at a time.
 */
class GoldenStorageTest {
    static final int SEQ = TinyModels.POSITIONS;

    @TempDir
    Path dir;

    /**
     * Tiny BERT (last_hidden_state 32 wide, pooler_output) and tiny GPT-2 (logits as wide as its byte-level vocabulary)
     * with a vocabulary-sized width lowered to theirs: a held output and, for BERT, a whole one beside it.
     */
    @Test
    void perSampleReductionStoresTheBytesOfReducingEverySampleAtOnce() throws Exception {
        for (String family : List.of("bert", "gpt2")) {
            Path snap = family.equals("bert") ? TinyModels.bert(dir.resolve(family), 3) : TinyModels.gpt2(dir.resolve(family), 3);
            ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
            List<Map<String, FloatTensor>> inputs = fixedSamples(model, snap);
            String reduced = family.equals("bert") ? Graphs.LAST_HIDDEN_STATE : Graphs.LOGITS;
            int minWidth = family.equals("bert") ? TinyModels.HIDDEN : 64;
            long maxFloats = 20L * minWidth; // 20 positions of a 32-wide output, fewer of a wider one (at least 8)
            GoldenOutputs asSamples = Golden.samples(inputs);

            GoldenOutputs whole = Golden.fullLength(model, inputs, ProgramEvaluator.runtime());
            GoldenOutputs expected = HeldPositions.reduce(asSamples, whole, minWidth, maxFloats);
            // the worker keeps nothing: one prediction at a time
            Chunks single = new Chunks();
            Golden.Pass stored = Golden.pass(model, inputs, single,
                    shapes -> HeldPositions.held(asSamples, shapes, minWidth, maxFloats), 0);
            assertThat(expected.samples().get(0).tensors().get(reduced).holdsSomePositionsOnly()).as(family).isTrue();
            assertThat(bytes(stored.stored())).as(family).isEqualTo(bytes(expected));
            assertThat(stored.kept()).isEmpty();
            assertThat(single.sizes).as(family + ": one prediction at a time").containsOnly(1);
            assertThat(single.predictions).isEqualTo(inputs.size());

            // convert keeps its fidelity samples anyway: a prediction group at a time, the same bytes
            Chunks chunks = new Chunks();
            Golden.Pass pass = Golden.pass(model, inputs, chunks,
                    shapes -> HeldPositions.held(asSamples, shapes, minWidth, maxFloats), 3);
            assertThat(bytes(pass.stored())).as(family).isEqualTo(bytes(expected));
            assertThat(chunks.sizes).as(family + ": a group at a time")
                    .allSatisfy(size -> assertThat(size).isBetween(1, ReferenceModel.GROUP));
            assertThat(chunks.sizes).as(family).anySatisfy(size -> assertThat(size).isGreaterThan(1));
            assertThat(chunks.predictions).isEqualTo(inputs.size());
            // what convert keeps for its fidelity: the first samples on every real token, as fullLength gives them
            assertThat(bytes(new GoldenOutputs(pass.kept()))).isEqualTo(bytes(new GoldenOutputs(whole.samples().subList(0, 3))));
            if (family.equals("bert")) {
                GoldenTensor pooled = pass.stored().samples().get(5).tensors().get(Graphs.POOLER_OUTPUT);
                assertThat(pooled.holdsSomePositionsOnly()).isFalse();
            }
        }
    }

    /**
     * With the default bounds a small model's outputs stay whole: {@link Golden#forStorage} is {@link Golden#fullLength}
     * byte for byte, and its predictions run together (each prefix length's samples in one call).
     */
    @Test
    void nothingReducedRunsTheSamplesTogetherWithTheBytesOfFullLength() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("small"), 8);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> inputs = fixedSamples(model, snap);
        Chunks chunks = new Chunks();
        Golden.Pass pass = Golden.forStorage(model, inputs, chunks, 0);
        assertThat(pass.kept()).isEmpty();
        assertThat(bytes(pass.stored())).isEqualTo(bytes(Golden.fullLength(model, inputs, ProgramEvaluator.runtime())));
        assertThat(chunks.predictions).isEqualTo(inputs.size());
        assertThat(chunks.sizes).as("every prefix length's samples in one chunk").containsOnly(inputs.size());
        assertThat(chunks.calls).as("one call per distinct prefix length")
                .isEqualTo((int) java.util.Arrays.stream(SamplePrefix.of(inputs).lengths()).distinct().count());
        assertThatThrownBy(() -> Golden.forStorage(model, inputs, chunks, inputs.size() + 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a golden pass over " + inputs.size() + " samples cannot keep " + (inputs.size() + 1));
    }

    /**
     * {@link Golden#storedFormat}, which the converter worker compares with an earlier attempt's stored pair without
     * running the model, is the format the registry reads from the pair as written (the newer of its two headers): a
     * masked LM with a vocabulary-sized head holds its logits at some positions (3), the tiny BERT's outputs stay whole
     * (2), and under {@code ANEFORGE_GOLDEN_FORMAT=2} or {@code 1} nothing is held (2, 1).
     */
    @Test
    void storedFormatIsTheFormatOfThePairAsWritten() throws Exception {
        ImportedModel mlm = ModelImporter.importWeights(ModelSnapshot.of(
                TinyModels.maskedLm(dir.resolve("mlm"), 5, HeldPositions.MIN_WIDTH), null));
        List<Map<String, FloatTensor>> masked = fixedSamples(mlm, dir.resolve("mlm"));
        Path bertDir = TinyModels.bert(dir.resolve("bert"), 5);
        ImportedModel bert = ModelImporter.importWeights(ModelSnapshot.of(bertDir, null));
        List<Map<String, FloatTensor>> plain = fixedSamples(bert, bertDir);

        assertThat(Golden.storedFormat(mlm, masked)).isEqualTo(writtenFormat(mlm, masked)).isEqualTo(3);
        assertThat(Golden.storedFormat(bert, plain)).isEqualTo(writtenFormat(bert, plain)).isEqualTo(2);
        String before = System.getProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
        try {
            for (String cap : List.of("2", "1")) {
                System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, cap);
                assertThat(Golden.storedFormat(mlm, masked)).as("cap " + cap).isEqualTo(writtenFormat(mlm, masked))
                        .isEqualTo(Integer.parseInt(cap));
            }
        } finally {
            if (before == null) System.clearProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
            else System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, before);
        }
    }

    /** The newer header of the pair as the worker and convert write it: what the registry records as its format. */
    private static int writtenFormat(ImportedModel model, List<Map<String, FloatTensor>> inputs) throws IOException {
        GoldenOutputs outputs = Golden.forStorage(model, inputs, ProgramEvaluator.runtime(), 0).stored();
        return Math.max(headerVersion(Golden.samples(inputs)), headerVersion(outputs));
    }

    private static int headerVersion(GoldenOutputs golden) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(golden, out);
        return GoldenOutputsCodec.version(new java.io.ByteArrayInputStream(out.toByteArray()));
    }

    /**
     * The held positions are picked from the program's declared outputs before anything runs, so a runtime that
     * answers under another name or with another shape is refused, naming the output and both sides: the reference
     * runtime's real predictions of tiny BERT, with one output renamed, dropped or reshaped on the way back (a runtime
     * breaking its contract). last_hidden_state is held at some positions here (the vocabulary-sized width lowered to
     * its 32 floats), so the renamed and the [1, L, 2, H/2] cases are ones the pass stored without a word before:
     * renamed, it matched no held positions and was stored whole; reshaped, it passed as per-token and was stored at
     * its held positions with the wrong shape.
     */
    @Test
    void aPredictionThatIsNotTheDeclaredOutputsIsRefused() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("declared"), 3);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> inputs = fixedSamples(model, snap);
        GoldenOutputs asSamples = Golden.samples(inputs);
        Function<Map<String, int[]>, HeldPositions.Held> held =
                shapes -> HeldPositions.held(asSamples, shapes, TinyModels.HIDDEN, 20L * TinyModels.HIDDEN);
        // the first sample handed back: the shortest prefix's first one (SamplePrefix runs shorter prefixes first)
        int[] lengths = SamplePrefix.of(inputs).lengths();
        int first = IntStream.range(0, lengths.length).boxed().min(Comparator.comparingInt(i -> lengths[i]))
                .orElseThrow();
        int length = lengths[first];
        assertThat(length).as("a prefix shorter than the program's positions").isLessThan(SEQ);
        String sample = "golden pass, " + Golden.sampleId(first) + ": the runtime returned ";
        String report = ": this is a bug in the runtime computing the golden outputs (ANE Forge's reference runtime, in"
                + " convert and the worker) or in ANE Forge's graph builder for this model; report it with the model's"
                + " source";
        // with the outputs as the runtime gave them, the pass goes through and holds last_hidden_state at some
        // positions only
        Golden.Pass ok = Golden.pass(model, inputs, new Chunks(), held, 0);
        assertThat(ok.stored().samples()).hasSize(inputs.size());
        assertThat(ok.stored().samples().get(first).tensors().get(Graphs.LAST_HIDDEN_STATE).holdsSomePositionsOnly())
                .as("last_hidden_state is reduced").isTrue();

        assertThatThrownBy(() -> Golden.pass(model, inputs,
                new Chunks(out -> rename(out, Graphs.LAST_HIDDEN_STATE, "hidden")), held, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(sample + "outputs [hidden, " + Graphs.POOLER_OUTPUT + "], undeclared [hidden],"
                        + " without [" + Graphs.LAST_HIDDEN_STATE + "]; the program declares ["
                        + Graphs.LAST_HIDDEN_STATE + ", " + Graphs.POOLER_OUTPUT + "]. The runtime must answer with the"
                        + " program's outputs under their declared names" + report);
        assertThatThrownBy(() -> Golden.pass(model, inputs, new Chunks(out -> {
            Map<String, FloatTensor> m = new LinkedHashMap<>(out);
            m.remove(Graphs.POOLER_OUTPUT);
            return m;
        }), held, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith(sample + "outputs [" + Graphs.LAST_HIDDEN_STATE + "], without ["
                        + Graphs.POOLER_OUTPUT + "]; the program declares [");

        // the reduced output with its floats as they are and its hidden axis split in two, on every prediction
        // (each at its own prefix length): still (1, L, ...), so it passed as per-token and was cut to its held
        // positions with a shape the program does not declare
        int[] split = {1, length, 2, TinyModels.HIDDEN / 2};
        assertThatThrownBy(() -> Golden.pass(model, inputs, new Chunks(out -> reshape(out, Graphs.LAST_HIDDEN_STATE,
                s -> new int[] {1, s[1], 2, s[2] / 2})), held, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(sample + "output '" + Graphs.LAST_HIDDEN_STATE + "' with shape " + Arrays.toString(split)
                        + "; the program declares [1, " + SEQ + ", " + TinyModels.HIDDEN + "], which is [1, " + length
                        + ", " + TinyModels.HIDDEN + "] on this sample's prefix of " + length + " positions. The"
                        + " runtime must answer with the declared shapes" + report);
        // without its batch axis it is no per-token shape: Held.apply refused it already (not the per-token shape its
        // positions were chosen for); the declaration names it first
        int[] flat = {length, TinyModels.HIDDEN};
        assertThatThrownBy(() -> Golden.pass(model, inputs, new Chunks(out -> reshape(out, Graphs.LAST_HIDDEN_STATE,
                s -> new int[] {s[1], s[2]})), held, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith(sample + "output '" + Graphs.LAST_HIDDEN_STATE + "' with shape "
                        + Arrays.toString(flat) + "; the program declares [1, " + SEQ + ", " + TinyModels.HIDDEN + "]");
        // an output without a sequence axis: its declared shape as it is
        assertThatThrownBy(() -> Golden.pass(model, inputs, new Chunks(out -> reshape(out, Graphs.POOLER_OUTPUT,
                s -> new int[] {s[1]})), held, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith(sample + "output '" + Graphs.POOLER_OUTPUT + "' with shape ["
                        + TinyModels.HIDDEN + "]; the program declares [1, " + TinyModels.HIDDEN + "]. The runtime"
                        + " must answer");
    }

    private static Map<String, FloatTensor> rename(Map<String, FloatTensor> outputs, String from, String to) {
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        outputs.forEach((name, t) -> m.put(name.equals(from) ? to : name, t));
        return m;
    }

    /** {@code outputs} with output {@code name}'s floats as they are under the shape {@code shape} makes of its own. */
    private static Map<String, FloatTensor> reshape(Map<String, FloatTensor> outputs, String name,
                                                    UnaryOperator<int[]> shape) {
        Map<String, FloatTensor> m = new LinkedHashMap<>(outputs);
        FloatTensor t = outputs.get(name);
        m.put(name, new FloatTensor(shape.apply(t.shape()), t.data()));
        return m;
    }

    /** Every fixed sample as the golden step tokenizes them for {@code model} ({@link Golden#sampleInputs}). */
    private static List<Map<String, FloatTensor>> fixedSamples(ImportedModel model, Path snapshot) throws IOException {
        try (Tokenizer tok = Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            return Golden.sampleInputs(model, tok, Samples.fixed().size(), SEQ);
        }
    }

    private static byte[] bytes(GoldenOutputs golden) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(golden, out, 3);
        return out.toByteArray();
    }

    /**
     * The reference runtime, recording the chunk size asked for in each call and how many predictions ran, and handing
     * back each prediction's outputs as {@code change} makes them (as they are, unless a test has it break the
     * runtime's contract).
     */
    private static final class Chunks implements ProgramEvaluator {
        final ProgramEvaluator runtime = ProgramEvaluator.runtime();
        final UnaryOperator<Map<String, FloatTensor>> change;
        final List<Integer> sizes = new ArrayList<>();
        int calls;
        int predictions;

        Chunks() {
            this(UnaryOperator.identity());
        }

        Chunks(UnaryOperator<Map<String, FloatTensor>> change) {
            this.change = change;
        }

        @Override
        public List<Map<String, FloatTensor>> runAll(Program program, List<Map<String, FloatTensor>> inputs) {
            throw new AssertionError("the golden pass runs real tokens only, through runEach");
        }

        @Override
        public void runEach(Program program, List<Map<String, FloatTensor>> inputs, int[] realLengths, int chunk,
                            ObjIntConsumer<Map<String, FloatTensor>> each) {
            calls++;
            sizes.add(chunk);
            runtime.runEach(program, inputs, realLengths, chunk, (outputs, i) -> {
                predictions++;
                each.accept(change.apply(outputs), i);
            });
        }
    }
}

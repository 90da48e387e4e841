package io.aneforge.convert;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.graph.Graphs;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.model.ImportedModel;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Encoding;
import io.aneforge.tokenizer.MaskToken;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Golden outputs: the unconverted FP32 graph (standard layout, FP32 weights) run by an
 * evaluator on tokenized samples. Sample ids are {@code sample-NN} in list order.
 */
public final class Golden {
    /** Chip id of the golden (unconverted) spec; it never leaves this process. */
    public static final String REFERENCE_CHIP = "REFERENCE";

    private Golden() {
    }

    /** The spec of the unconverted graph at {@code seqLen}. */
    public static VariantSpec referenceSpec(int seqLen) {
        return new VariantSpec(REFERENCE_CHIP, Target.IOS15, Layout.STANDARD, Precision.FP32, seqLen, 0);
    }

    public static GoldenOutputs compute(ImportedModel model, Tokenizer tokenizer, List<String> samples, int seqLen) {
        return compute(model, tokenizer, samples, seqLen, ProgramEvaluator.runtime());
    }

    public static GoldenOutputs compute(ImportedModel model, Tokenizer tokenizer, List<String> samples, int seqLen,
                                        ProgramEvaluator evaluator) {
        Program program = VariantConverter.build(model, referenceSpec(seqLen)).program();
        List<Map<String, FloatTensor>> outputs = run(program, inputs(tokenizer, samples, seqLen), evaluator);
        List<GoldenOutputs.Sample> out = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            out.add(GoldenOutputs.Sample.of(sampleId(i), outputs.get(i)));
        }
        return new GoldenOutputs(out);
    }

    /**
     * Golden outputs on {@code samples} ({@link SamplePrefix#runRealTokens}: the FP32 graph cut to the samples'
     * prefix), so they have the prefix length on their sequence axis, and per-token outputs hold the golden
     * floats on each sample's real tokens only (compare them with {@link VariantFidelity#realTokens}).
     */
    public static GoldenOutputs compute(ImportedModel model, SamplePrefix samples, ProgramEvaluator evaluator) {
        Program program = VariantConverter.build(model, referenceSpec(samples.seqLen())).program();
        List<Map<String, FloatTensor>> outputs = samples.runRealTokens(program, evaluator);
        List<GoldenOutputs.Sample> out = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            out.add(GoldenOutputs.Sample.of(sampleId(i), outputs.get(i)));
        }
        return new GoldenOutputs(out);
    }

    /**
     * The FP32 graph's outputs on each sample's real tokens only ({@link #compute(ImportedModel, SamplePrefix,
     * ProgramEvaluator)} on each sample's own prefix), laid out at full length {@code (1, S, ...)} with 0 at every
     * padded position ({@link SamplePrefix#fullLength}): the golden data before {@code HeldPositions} reduces it for
     * storage ({@link #forStorage}). Computing the padded positions too would cost more and change nothing agents
     * compare (they compare real tokens only); zeros make the bytes the same whichever path, prefix and thread count
     * computed them ({@code GoldenTest}). The padded positions are not held ({@link SamplePrefix#realTokens}): for
     * GPT-2's logits the 32 fixed samples hold their 615 real tokens, not 4096 positions.
     *
     * @param inputs full-length sample inputs, as {@link #inputs} makes them
     */
    public static GoldenOutputs fullLength(ImportedModel model, List<Map<String, FloatTensor>> inputs,
                                           ProgramEvaluator evaluator) {
        return new GoldenOutputs(pass(model, inputs, evaluator, shapes -> HeldPositions.Held.NONE, inputs.size()).kept());
    }

    /**
     * The golden outputs the registry stores for a version ({@code golden-outputs.bin}), the one function both the
     * converter worker's golden step and {@code ./aneforge convert} call, so that both store the same bytes for the
     * same source, sequence length and samples: {@link #fullLength} as {@link HeldPositions#forStorage} reduces it
     * (vocabulary-sized logits at a bounded set of real tokens). The positions depend on the inputs and the program's
     * output shapes only, so each sample is reduced as soon as it is computed, and when some output is reduced the
     * samples are computed one at a time: every real token's logits are never held at once (some 615 MB for
     * XLM-RoBERTa's vocabulary), one sample's at a time are. The same bytes as reducing {@link #fullLength}
     * ({@code GoldenStorageTest}).
     *
     * @param inputs full-length sample inputs, as {@link #sampleInputs} makes them
     * @param keep   how many of the first samples to keep as {@link #fullLength} gives them ({@link Pass#kept}), for a
     *               caller that compares them ({@code convert}'s fidelity compares every real token); 0 for none
     */
    public static Pass forStorage(ImportedModel model, List<Map<String, FloatTensor>> inputs, ProgramEvaluator evaluator,
                                  int keep) {
        GoldenOutputs asSamples = samples(inputs);
        return pass(model, inputs, evaluator, shapes -> HeldPositions.forStorage(asSamples, shapes), keep);
    }

    /**
     * A golden pass: {@link #forStorage}'s outputs ({@link Pass#stored}) and the first samples' outputs on every real
     * token ({@link Pass#kept}, in sample order).
     */
    public record Pass(GoldenOutputs stored, List<GoldenOutputs.Sample> kept) {
        public Pass {
            kept = List.copyOf(kept);
        }
    }

    /**
     * The FP32 graph on each sample's prefix, each sample's outputs held as {@link SamplePrefix#realTokens} and reduced
     * by the held positions {@code held} picks for the program's output shapes as soon as they are computed. A
     * prediction whose outputs are not the declared ones, by name or by shape, is refused
     * ({@link #requireDeclared}): the held positions were picked from the declaration.
     */
    static Pass pass(ImportedModel model, List<Map<String, FloatTensor>> inputs, ProgramEvaluator evaluator,
                     Function<Map<String, int[]>, HeldPositions.Held> held, int keep) {
        if (keep < 0 || keep > inputs.size()) {
            throw new IllegalArgumentException("a golden pass over " + inputs.size() + " samples cannot keep " + keep);
        }
        SamplePrefix prefix = SamplePrefix.of(inputs);
        Program program = VariantConverter.build(model, referenceSpec(prefix.seqLen())).program();
        Map<String, int[]> shapes = outputShapes(program);
        HeldPositions.Held positions = held.apply(shapes);
        GoldenOutputs.Sample[] stored = new GoldenOutputs.Sample[inputs.size()];
        GoldenOutputs.Sample[] kept = new GoldenOutputs.Sample[keep];
        // With an output reduced and nothing kept (the worker), one prediction at a time: only one sample's outputs
        // are held whole at once. A caller that keeps samples (convert's fidelity) holds them anyway, so it predicts
        // a group at a time, as before: one at a time would stream a vocabulary-sized head's weights once per sample.
        int chunk = !positions.reducesAny() ? inputs.size() : keep > 0 ? ReferenceModel.GROUP : 1;
        int[] lengths = prefix.lengths();
        prefix.runRealTokens(program, evaluator, chunk, (outputs, i) -> {
            requireDeclared(shapes, prefix.seqLen(), lengths[i], outputs, i);
            GoldenOutputs.Sample sample = new GoldenOutputs.Sample(sampleId(i), prefix.realTokens(i, outputs));
            if (i < keep) {
                kept[i] = sample;
            }
            stored[i] = positions.apply(i, sample);
        });
        return new Pass(new GoldenOutputs(List.of(stored)), List.of(kept));
    }

    /**
     * The golden format ({@link GoldenOutputsCodec} version) the registry records for the pair this process stores for
     * {@code inputs}: {@link #samples} of them and {@link #forStorage}'s outputs, each written as {@link
     * GoldenOutputsCodec#write(GoldenOutputs, java.io.OutputStream)} writes it, the newer of the two (the registry
     * reads both headers and keeps the newer). Known without running the model: the outputs are format 3 exactly when
     * {@link HeldPositions#forStorage} holds some output at some positions, which depends on the inputs' attention
     * masks and the program's output shapes only; otherwise both blobs are the configured format, at most 2. The
     * converter worker compares it with the format of the pair an earlier attempt stored before reusing that pair's
     * outputs. Under a configured format below 3 nothing is held and the program is not built.
     *
     * @param inputs full-length sample inputs, as {@link #sampleInputs} makes them
     * @throws IllegalArgumentException when the golden format setting is not 1, 2 or 3 (naming it)
     */
    public static int storedFormat(ImportedModel model, List<Map<String, FloatTensor>> inputs) {
        // The inputs blob is never reduced (format min(cap, 2)), so the pair's format is the outputs'.
        int cap = GoldenOutputsCodec.configuredVersion();
        if (cap < 3) {
            return cap;
        }
        Program program = VariantConverter.build(model, referenceSpec(SamplePrefix.of(inputs).seqLen())).program();
        boolean held = HeldPositions.forStorage(samples(inputs), outputShapes(program)).reducesAny();
        return held ? 3 : 2;
    }

    /** The program's outputs by name, each with its shape: what {@link HeldPositions} picks held positions by. */
    private static Map<String, int[]> outputShapes(Program program) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        program.outputs().forEach(v -> shapes.put(v.name(), v.shape()));
        return shapes;
    }

    /**
     * What {@link #requireDeclared} tells the operator: convert and the worker compute golden outputs with ANE Forge's
     * own reference runtime on the program its graph builder made, so neither is theirs to fix.
     */
    private static final String NOT_DECLARED = ": this is a bug in the runtime computing the golden outputs (ANE"
            + " Forge's reference runtime, in convert and the worker) or in ANE Forge's graph builder for this model;"
            + " report it with the model's source";

    /**
     * Refuses sample {@code sample}'s prediction unless it holds exactly the program's declared outputs
     * ({@code declared}: name to shape at the full length {@code seqLen}), each of its declared shape at the sample's
     * prefix of {@code length} positions (a per-token output's axis 1 is the prefix, {@link SamplePrefix}). The held
     * positions are chosen from the declared names and shapes before anything runs, so a runtime that answered under
     * another name or with another shape would have that output stored whole, or held where the shape has other rows,
     * and agents would compare against it without anyone noticing. The outputs are checked as {@link SamplePrefix}
     * hands them over: a per-token output of the whole program, run when it cannot be cut, arrives already cut to the
     * prefix.
     */
    static void requireDeclared(Map<String, int[]> declared, int seqLen, int length, Map<String, FloatTensor> outputs,
                                int sample) {
        if (!outputs.keySet().equals(declared.keySet())) {
            List<String> undeclared = outputs.keySet().stream().filter(n -> !declared.containsKey(n)).toList();
            List<String> missing = declared.keySet().stream().filter(n -> !outputs.containsKey(n)).toList();
            throw new IllegalStateException("golden pass, " + sampleId(sample) + ": the runtime returned outputs "
                    + outputs.keySet() + (undeclared.isEmpty() ? "" : ", undeclared " + undeclared)
                    + (missing.isEmpty() ? "" : ", without " + missing) + "; the program declares "
                    + declared.keySet() + ". The runtime must answer with the program's outputs under their declared"
                    + " names" + NOT_DECLARED);
        }
        for (Map.Entry<String, int[]> e : declared.entrySet()) {
            int[] expected = e.getValue().clone();
            boolean perToken = Graphs.perToken(e.getKey(), expected, seqLen);
            if (perToken) {
                expected[1] = length;
            }
            int[] actual = outputs.get(e.getKey()).shape();
            if (!Arrays.equals(actual, expected)) {
                throw new IllegalStateException("golden pass, " + sampleId(sample) + ": the runtime returned output '"
                        + e.getKey() + "' with shape " + Arrays.toString(actual) + "; the program declares "
                        + Arrays.toString(e.getValue())
                        + (perToken && length != seqLen ? ", which is " + Arrays.toString(expected)
                        + " on this sample's prefix of " + length + " positions" : "")
                        + ". The runtime must answer with the declared shapes" + NOT_DECLARED);
            }
        }
    }

    /** Per-sample maps (inputs or outputs) as golden samples with the ids {@link #sampleId} gives in list order. */
    public static GoldenOutputs samples(List<Map<String, FloatTensor>> maps) {
        List<GoldenOutputs.Sample> out = new ArrayList<>();
        for (int i = 0; i < maps.size(); i++) {
            out.add(GoldenOutputs.Sample.of(sampleId(i), maps.get(i)));
        }
        return new GoldenOutputs(out);
    }

    public static String sampleId(int index) {
        return String.format(Locale.ROOT, "sample-%02d", index);
    }

    /**
     * The program inputs of the first {@code count} fixed samples as {@code model} reads them: the sentences of
     * {@link Samples#fixed} ({@code input_ids}, {@code attention_mask}) for a model without token types, and for one
     * that takes {@code token_type_ids} ({@link ImportedModel#tokenTypeInput}) the sentence pairs of
     * {@link Samples#pairs}, each with its segments: every sample then exercises the second segment's row of the
     * token type table, which a single text (segment 0 throughout) never reads, and its first segment is what a
     * single text exercises. Such a model was converted with token types because it reads pairs (a cross-encoder,
     * next-sentence prediction), so pairs are also its real inputs. A masked LM's samples carry its tokenizer's mask
     * token ({@link MaskedSamples}); every other model's are the texts as tokenized. Golden data, fidelity and
     * {@code eval} all take their samples here, so they agree; the bytes are the same on every run, and the first
     * {@code count} samples are the same whatever {@code count}. A pair that tokenizer.json's
     * {@code OnlyFirst}/{@code OnlySecond} cannot fit is cut longest first instead ({@link #encodeSamplePair}).
     */
    public static List<Map<String, FloatTensor>> sampleInputs(ImportedModel model, Tokenizer tokenizer, int count,
                                                              int seqLen) {
        if (count < 0 || count > Samples.fixed().size()) {
            throw new IllegalArgumentException("the fixed samples are " + Samples.fixed().size() + ": cannot take "
                    + count);
        }
        Optional<MaskToken> mask = MaskedSamples.maskToken(model, tokenizer);
        // where a masked LM's masks go depends on every fixed sample's real tokens (the held positions are spread over
        // all of them), so all are encoded and the first `count` kept
        List<Encoding> samples = encodeSamples(model, tokenizer, mask.isPresent() ? Samples.fixed().size() : count,
                seqLen);
        if (mask.isPresent()) {
            samples = MaskedSamples.mask(model, tokenizer, mask.get(), samples, seqLen).subList(0, count);
        }
        List<Map<String, FloatTensor>> all = new ArrayList<>();
        for (Encoding e : samples) {
            all.add(inputs(e, model.tokenTypeInput()));
        }
        return all;
    }

    /** The first {@code count} fixed sentences, or sentence pairs for a model with token types, encoded. */
    private static List<Encoding> encodeSamples(ImportedModel model, Tokenizer tokenizer, int count, int seqLen) {
        List<Encoding> out = new ArrayList<>();
        if (!model.tokenTypeInput()) {
            for (String s : Samples.fixed().subList(0, count)) {
                out.add(tokenizer.encode(s, seqLen));
            }
            return out;
        }
        for (Samples.Pair p : Samples.pairs().subList(0, count)) {
            out.add(encodeSamplePair(tokenizer, p, seqLen));
        }
        return out;
    }

    /**
     * A fixed pair cut by tokenizer.json's truncation strategy, or longest first when that strategy refuses it
     * ({@code OnlyFirst}/{@code OnlySecond} with the one text it may cut too short, which short sequence lengths
     * reach): the samples are aneforge's measurement, not texts the user can shorten, so they never fail a convert or
     * a golden step. The choice depends only on the pair, the tokenizer and the length, so the bytes are the same on
     * every run. A length below the pair template's special tokens is still refused.
     */
    static Encoding encodeSamplePair(Tokenizer tokenizer, Samples.Pair p, int seqLen) {
        try {
            return tokenizer.encodePair(p.first(), p.second(), seqLen);
        } catch (IllegalArgumentException refusedByTheFileStrategy) {
            return tokenizer.encodePairLongestFirst(p.first(), p.second(), seqLen);
        }
    }

    /** Program inputs per sample: {@code input_ids} and {@code attention_mask}, (1, seqLen), ids as exact floats. */
    public static List<Map<String, FloatTensor>> inputs(Tokenizer tokenizer, List<String> samples, int seqLen) {
        return inputs(tokenizer, samples, seqLen, false);
    }

    /** The inputs of {@code model}'s programs: also {@code token_type_ids} when it takes them. */
    public static List<Map<String, FloatTensor>> inputs(ImportedModel model, Tokenizer tokenizer, List<String> samples,
                                                        int seqLen) {
        return inputs(tokenizer, samples, seqLen, model.tokenTypeInput());
    }

    /**
     * Program inputs per sample: {@code input_ids} and {@code attention_mask}, (1, seqLen), ids as exact floats,
     * and with {@code tokenTypes} a {@code token_type_ids} of zeros (each sample is one text, segment 0: what
     * Hugging Face's tokenizers give for a single text).
     */
    public static List<Map<String, FloatTensor>> inputs(Tokenizer tokenizer, List<String> samples, int seqLen,
                                                        boolean tokenTypes) {
        List<Map<String, FloatTensor>> all = new ArrayList<>();
        for (String s : samples) {
            all.add(inputs(tokenizer.encode(s, seqLen), tokenTypes));
        }
        return all;
    }

    /**
     * The program inputs of one encoding ({@code (1, S)} each, ids as exact floats): {@code input_ids},
     * {@code attention_mask} and, with {@code tokenTypes}, its {@code token_type_ids} (segment 1 for the second text
     * of a pair, {@link Tokenizer#encodePair}).
     */
    public static Map<String, FloatTensor> inputs(Encoding e, boolean tokenTypes) {
        int seqLen = e.ids().length;
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, seqLen}, floats(e.ids())));
        m.put(Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, seqLen}, floats(e.attentionMask())));
        if (tokenTypes) {
            m.put(Graphs.TOKEN_TYPE_IDS, new FloatTensor(new int[] {1, seqLen}, floats(e.typeIds())));
        }
        return m;
    }

    /** Runs {@code program} on each input map (a convenience over {@link ProgramEvaluator#runAll}). */
    public static List<Map<String, FloatTensor>> run(Program program, List<Map<String, FloatTensor>> inputs,
                                                     ProgramEvaluator evaluator) {
        return evaluator.runAll(program, inputs);
    }

    private static float[] floats(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }
}

package io.aneforge.agent.golden;

import io.aneforge.agent.cache.Fault;
import io.aneforge.convert.VariantFidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.graph.Graphs;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compares a variant's outputs with the golden FP32 outputs, per output name, with ane-core's
 * definition of fidelity ({@link VariantFidelity#realTokens}, the one {@code convert} and {@code eval}
 * report): several samples are compared as one, and per-token outputs only on each sample's real
 * tokens, the positions whose {@code attention_mask} in the golden inputs is 1. Padding positions feed
 * nothing downstream and are the most sensitive to quantization: counted in, they made an int8 variant
 * whose real tokens score 0.9997 read 0.96. {@link FidelityReport#positions()} is the number of
 * positions compared. Inputs without an {@code attention_mask} (a model that takes none) have no
 * padding: every position is compared. An output in ANE layout {@code (B, C, 1, S)} is compared with a
 * golden {@code (B, S, C)} after transposing it back. An output the golden data holds at some positions only (golden
 * format 3: vocabulary-sized logits) is compared at those only, and its report lists them
 * ({@link FidelityReport#comparedPositions()}); the first sample, all a benchmark job runs, always holds one.
 *
 * <p>The samples are handed over one at a time ({@link #add}), as the agent runs them, and each is cut at once to what
 * the comparison reads ({@link VariantFidelity#comparedPart}: the rows at a held output's positions, a per-token
 * output's real tokens, an output that is not per-token whole), so a caller that drops a sample's outputs before
 * running the next holds one sample's whole outputs at a time, not every sample's: for GPT-2's logits at seq 128 the
 * 32 fixed samples' are 823 MB, XLM-RoBERTa's about 4 GB, where the parts kept are what the golden data holds (its
 * 41 or 8 positions in format 3). What every sample will keep counts against {@code aneforge.agent.golden-max-memory},
 * checked when the first sample is added (its shapes follow from the golden data and masks), so a job that cannot fit
 * fails after one prediction, not after as many as fit ({@link #heldBytes()} is what is kept so far). The reports are those of {@link VariantFidelity} on every sample's whole outputs, float for
 * float, and so are the errors: a problem of a sample (a missing output, a shape that cannot be aligned, a sample
 * the golden inputs lack) is kept until {@link #reports()}, which throws the first in golden order, as a comparison
 * of every output at the end would.
 */
public final class GoldenComparison {

    private final GoldenOutputs golden;
    private final Map<String, GoldenOutputs.Sample> goldenById = new HashMap<>();
    private final Map<String, GoldenOutputs.Sample> inputsById = new HashMap<>();
    /** The ids {@link #add} will be called with, and those it was called with (in that order). */
    private final Set<String> planned;
    private final Set<String> added = new LinkedHashSet<>();
    /** Whether every golden sample to compare has an {@code attention_mask}: real tokens are compared, else all. */
    private final boolean masked;
    private final long maxHeldBytes;
    /** The output names compared: the golden ones the first sample added has (null until then). */
    private List<String> shared;
    private IllegalArgumentException noSharedName;
    /** Per golden sample added: its problem, or its compared parts and mask. */
    private final Map<String, IllegalArgumentException> problems = new HashMap<>();
    private final Map<String, Map<String, FloatTensor>> parts = new HashMap<>();
    private final Map<String, float[]> masks = new HashMap<>();
    private long heldBytes;

    /**
     * @param inputs       the golden inputs (per sample id, the model inputs; their {@code attention_mask} says which
     *                     positions are real tokens)
     * @param sampleIds    the samples that will be run and {@link #add}ed (golden samples among them are compared,
     *                     others are left out): known before the first runs, since whether real tokens or every
     *                     position are compared depends on all of them having an {@code attention_mask}
     * @param maxHeldBytes most bytes the compared parts kept may take together
     *                     ({@code aneforge.agent.golden-max-memory})
     */
    public GoldenComparison(GoldenOutputs golden, GoldenOutputs inputs, Collection<String> sampleIds, long maxHeldBytes) {
        this.golden = golden;
        this.planned = new LinkedHashSet<>(sampleIds);
        this.maxHeldBytes = maxHeldBytes;
        for (GoldenOutputs.Sample s : golden.samples()) {
            goldenById.put(s.id(), s);
        }
        for (GoldenOutputs.Sample s : inputs.samples()) {
            inputsById.put(s.id(), s);
        }
        boolean all = true;
        for (String id : planned) {
            GoldenOutputs.Sample in = inputsById.get(id);
            if (goldenById.containsKey(id) && in != null) { // a golden sample without inputs fails in reports()
                all &= in.tensors().containsKey(Graphs.ATTENTION_MASK);
            }
        }
        this.masked = all;
    }

    /**
     * Every sample's outputs at once: {@link #add} for each (in the map's order), then {@link #reports()}. For outputs
     * already in memory (a benchmark's first prediction), so with no bound on the parts kept.
     *
     * @param candidates the variant's outputs per sample id (the samples run; others are left out)
     * @return fidelity per output name present in both (golden order)
     * @throws IllegalArgumentException when no output is shared, a sample is missing or shapes cannot be aligned
     */
    public static Map<String, FidelityReport> compare(GoldenOutputs golden, GoldenOutputs inputs,
            Map<String, Map<String, FloatTensor>> candidates) {
        GoldenComparison comparison = new GoldenComparison(golden, inputs, candidates.keySet(), Long.MAX_VALUE);
        candidates.forEach(comparison::add);
        return comparison.reports();
    }

    /**
     * Keeps what the comparison reads of one sample's outputs (a new array where it is a part; an output that is
     * compared whole is kept as it is): the caller may drop {@code outputs} once this returns. The first sample added
     * decides which outputs are compared, the golden ones it has.
     *
     * @throws GoldenException ({@link Fault#ARTIFACT}) naming {@code aneforge.agent.golden-max-memory}, at the first
     *     sample, when the parts every announced golden sample will keep pass it
     * @throws IllegalStateException for a sample not announced to the constructor, or added twice
     */
    public void add(String id, Map<String, FloatTensor> outputs) {
        if (!planned.contains(id) || !added.add(id)) {
            throw new IllegalStateException("sample '" + id + "' was " + (planned.contains(id) ? "already added"
                    : "not among the samples to run " + planned));
        }
        if (shared == null) {
            shared = golden.outputNames().stream().filter(outputs::containsKey).toList();
            if (shared.isEmpty()) {
                noSharedName = new IllegalArgumentException("the variant's outputs " + outputs.keySet() + " share no"
                        + " name with the golden outputs " + golden.outputNames() + "; the variant and the golden data"
                        + " disagree on output names");
            }
        }
        if (added.size() == 1 && noSharedName == null) {
            checkFits(id);
        }
        GoldenOutputs.Sample sample = goldenById.get(id);
        if (noSharedName != null || sample == null) {
            return; // nothing of it is compared
        }
        Map<String, FloatTensor> kept;
        try {
            kept = cut(sample, outputs);
        } catch (IllegalArgumentException e) {
            problems.put(id, e);
            parts.clear(); // the comparison fails: nothing kept is needed any more
            heldBytes = 0;
            return;
        }
        if (!problems.isEmpty()) {
            return; // checked all the same: an earlier sample in golden order may fail first
        }
        parts.put(id, kept);
        for (FloatTensor t : kept.values()) {
            heldBytes += 4L * t.size();
        }
    }

    /**
     * Fails the job before anything is kept when the parts every planned golden sample will keep pass
     * {@code maxHeldBytes}: their shapes follow from the golden data and the masks alone
     * ({@link VariantFidelity#comparedShape}), once the first sample says which outputs are compared. Rather than
     * after running as many samples as fit, each prediction of which can take minutes on a large model. The sum is
     * what is kept when every sample is fine (a sample with a problem keeps nothing), so no later check is needed.
     */
    private void checkFits(String firstId) {
        long expected = 0;
        int samples = 0;
        for (String id : planned) {
            GoldenOutputs.Sample sample = goldenById.get(id);
            GoldenOutputs.Sample in = inputsById.get(id);
            if (sample == null || in == null) {
                continue; // not compared, or a problem reports() throws
            }
            float[] mask = mask(in);
            samples++;
            for (String name : shared) {
                if (sample.tensors().containsKey(name)) { // else a problem reports() throws
                    expected += 4 * FloatTensor.elementCount(VariantFidelity.comparedShape(sample, name, mask));
                }
            }
        }
        if (expected > maxHeldBytes) {
            throw new GoldenException(Fault.ARTIFACT, "the variant's outputs kept to compare with the golden data (the"
                    + " held positions, real tokens or whole outputs the comparison reads of " + shared + ") would take "
                    + expected + " bytes over the " + samples + " golden samples to run (known after the first, '"
                    + firstId + "'), more than the " + maxHeldBytes + "-byte limit for golden data held in memory:"
                    + " raise " + GoldenStore.SETTING + ", and the agent's heap (-Xmx) with it");
        }
    }

    /** The sample's {@code attention_mask} as {@code (1, S)} floats when real tokens are compared, else null. */
    private float[] mask(GoldenOutputs.Sample in) {
        return masked ? in.tensors().get(Graphs.ATTENTION_MASK).expand().data() : null;
    }

    /** Bytes of the compared parts kept so far (4 per float). */
    public long heldBytes() {
        return heldBytes;
    }

    /**
     * The comparison of the samples added, once all announced are.
     *
     * @return fidelity per output name present in both (golden order)
     * @throws IllegalArgumentException when no output is shared, a sample is missing or shapes cannot be aligned (the
     *     first such problem in golden sample order)
     */
    public Map<String, FidelityReport> reports() {
        if (!added.containsAll(planned)) {
            throw new IllegalStateException("samples " + planned + " were to be added, only " + added + " were");
        }
        if (noSharedName != null) {
            throw noSharedName;
        }
        List<GoldenOutputs.Sample> reference = new ArrayList<>();
        List<Map<String, FloatTensor>> candidate = new ArrayList<>();
        List<float[]> sampleMasks = new ArrayList<>();
        for (GoldenOutputs.Sample s : golden.samples()) {
            if (!added.contains(s.id())) {
                continue;
            }
            IllegalArgumentException problem = problems.get(s.id());
            if (problem != null) {
                throw problem;
            }
            Map<String, GoldenTensor> r = new LinkedHashMap<>();
            for (String name : shared) {
                r.put(name, s.tensors().get(name)); // as held: its padding is never expanded
            }
            reference.add(new GoldenOutputs.Sample(s.id(), r));
            candidate.add(parts.get(s.id()));
            sampleMasks.add(masks.get(s.id()));
        }
        if (reference.isEmpty()) {
            throw new IllegalArgumentException("no golden sample was run (sample ids " + added + ")");
        }
        return VariantFidelity.ofComparedParts(new GoldenOutputs(reference), candidate, masked ? sampleMasks : null);
    }

    /** The sample's compared parts of the shared outputs, each aligned to the golden layout first. */
    private Map<String, FloatTensor> cut(GoldenOutputs.Sample sample, Map<String, FloatTensor> outputs) {
        GoldenOutputs.Sample in = inputsById.get(sample.id());
        if (in == null) {
            throw new IllegalArgumentException("the golden inputs have no sample '" + sample.id() + "' (the golden"
                    + " outputs do); the two golden blobs of this version do not belong together");
        }
        float[] mask = mask(in);
        Map<String, FloatTensor> kept = new LinkedHashMap<>();
        for (String name : shared) {
            FloatTensor got = outputs.get(name);
            if (got == null) {
                throw new IllegalArgumentException("output '" + name + "' is missing for sample '" + sample.id() + "'");
            }
            // Aligned, the candidate has the golden shape: comparedPart's own shape check cannot fail here.
            FloatTensor aligned = align(name, sample.tensors().get(name).shape(), got);
            kept.put(name, VariantFidelity.comparedPart(sample, name, aligned, mask));
        }
        masks.put(sample.id(), mask);
        return kept;
    }

    /** The candidate in the layout of the reference's shape {@code rs}: as is, or (B, C, 1, S) transposed to (B, S, C). */
    static FloatTensor align(String name, int[] rs, FloatTensor candidate) {
        int[] cs = candidate.shape();
        if (Arrays.equals(rs, cs)) {
            return candidate;
        }
        if (rs.length == 3 && cs.length == 4 && cs[0] == rs[0] && cs[1] == rs[2] && cs[2] == 1 && cs[3] == rs[1]) {
            int b = rs[0], s = rs[1], ch = rs[2];
            float[] src = candidate.data();
            float[] dst = new float[src.length];
            for (int i = 0; i < b; i++) {
                for (int c = 0; c < ch; c++) {
                    for (int t = 0; t < s; t++) {
                        dst[(i * s + t) * ch + c] = src[(i * ch + c) * s + t];
                    }
                }
            }
            return new FloatTensor(rs.clone(), dst);
        }
        throw new IllegalArgumentException("output '" + name + "' has shape " + Arrays.toString(cs)
                + " but the golden output has " + Arrays.toString(rs) + " (nor is it its ANE layout (B, C, 1, S))");
    }
}

package io.aneforge.convert;

import io.aneforge.eval.Fidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.graph.Graphs;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A variant's outputs against the golden outputs, one {@link FidelityReport} per output over
 * all samples together (samples stacked on the first axis). {@code logits} (and a pre-training head's
 * {@code prediction_logits} and {@code seq_relationship_logits}) also get top-1 agreement. Outputs of every
 * layout are {@code (1, S, ...)}, so they compare directly.
 *
 * <p>{@link #realTokens} compares only the positions whose {@code attention_mask} is 1: the
 * outputs at padding positions are not used by anything downstream (mean pooling and decoding
 * skip them) and are the most sensitive to quantization (measured on all-MiniLM-L6-v2:
 * int8 per channel keeps real tokens above 0.999 while one padding position of a 4-token
 * sentence drops to 0.26), so gates use real tokens and reports show both.
 *
 * <p>A golden output held at some positions only (golden format 3, {@link io.aneforge.eval.golden.HeldPositions}:
 * vocabulary-sized logits) is compared at those positions only, the candidate's rows there against the held rows, with
 * the same metrics (cosine per position, the worst one, top-1 agreement); its report names them
 * ({@link FidelityReport#comparedPositions()}). The candidate's other positions are not read: an error there is not
 * seen, by design.
 */
public final class VariantFidelity {
    private VariantFidelity() {
    }

    public static Map<String, FidelityReport> of(GoldenOutputs golden, List<Map<String, FloatTensor>> outputs) {
        if (outputs.size() != golden.samples().size()) {
            throw new IllegalArgumentException("fidelity: " + outputs.size() + " candidate samples for "
                    + golden.samples().size() + " golden samples");
        }
        return compare(golden, null, (name, i) -> comparedPart(golden.samples().get(i), name,
                output(outputs.get(i), name), null));
    }

    /**
     * Like {@link #of}, but per-token outputs ({@code (1, S, ...)} with {@code S} the mask length)
     * keep only the positions where the sample's {@code attention_mask} is 1; other outputs are
     * compared whole. {@code inputs} are the golden inputs ({@link Golden#inputs}), in sample order.
     * The golden tensors are read as held ({@link GoldenTensor}): their padded positions are never expanded.
     */
    public static Map<String, FidelityReport> realTokens(GoldenOutputs golden, List<Map<String, FloatTensor>> outputs,
                                                         List<Map<String, FloatTensor>> inputs) {
        if (inputs.size() != golden.samples().size() || outputs.size() != inputs.size()) {
            throw new IllegalArgumentException("fidelity: " + inputs.size() + " inputs, " + outputs.size()
                    + " candidate samples and " + golden.samples().size() + " golden samples must match");
        }
        List<float[]> masks = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            FloatTensor mask = inputs.get(i).get(Graphs.ATTENTION_MASK);
            if (mask == null) {
                throw new IllegalArgumentException("fidelity: sample " + i + " has no " + Graphs.ATTENTION_MASK + " input");
            }
            masks.add(mask.data());
        }
        return compare(golden, masks, (name, i) -> comparedPart(golden.samples().get(i), name,
                output(outputs.get(i), name), masks.get(i)));
    }

    /**
     * {@link #of} ({@code masks} null) or {@link #realTokens} ({@code masks}: each sample's {@code attention_mask}, in
     * sample order) on candidates already cut to what the comparison reads: per sample, each output's
     * {@link #comparedPart}. The same reports, float for float, as those methods give on the whole outputs (they cut
     * them with the same method), so a caller that runs the samples one at a time need not hold every sample's whole
     * outputs: an agent keeps each sample's parts and drops the rest before running the next one.
     */
    public static Map<String, FidelityReport> ofComparedParts(GoldenOutputs golden, List<Map<String, FloatTensor>> parts,
                                                              List<float[]> masks) {
        if (parts.size() != golden.samples().size() || masks != null && masks.size() != parts.size()) {
            throw new IllegalArgumentException("fidelity: " + parts.size() + " candidate samples"
                    + (masks == null ? "" : ", " + masks.size() + " masks") + " for " + golden.samples().size()
                    + " golden samples");
        }
        return compare(golden, masks, (name, i) -> aligned(golden.samples().get(i), name, output(parts.get(i), name),
                masks == null ? null : masks.get(i)));
    }

    /**
     * The shape of what the comparison reads of output {@code name} of one sample ({@link #comparedPart}), from the
     * golden data alone: the golden shape with axis 1 cut to the positions it holds when it holds some only, else,
     * with {@code mask}, to a per-token output's real tokens (when the sample has some), else the golden shape. What a
     * caller keeps of a sample before it runs, so a bound on the parts kept can be checked before any is kept.
     *
     * @throws IllegalArgumentException when the golden outputs of the sample have no output {@code name}
     */
    public static int[] comparedShape(GoldenOutputs.Sample golden, String name, float[] mask) {
        GoldenTensor g = goldenTensor(golden, name);
        int[] shape = g.shape().clone();
        if (g.holdsSomePositionsOnly()) {
            shape[1] = g.heldPositions().length;
        } else if (mask != null && Graphs.perToken(name, shape, mask.length) && realCount(mask) > 0) {
            shape[1] = realCount(mask);
        }
        return shape;
    }

    /**
     * {@code part} when it has the shape the sample's compared part has ({@link #comparedShape}). Parts stacked for
     * the comparison only need their total along axis 1 to match: a part cut at the wrong positions or with another
     * sample's mask could still add up and be compared with the wrong golden rows.
     */
    private static FloatTensor aligned(GoldenOutputs.Sample golden, String name, FloatTensor part, float[] mask) {
        int[] expected = comparedShape(golden, name, mask);
        if (!java.util.Arrays.equals(expected, part.shape())) {
            GoldenTensor g = golden.tensors().get(name);
            String why = g.holdsSomePositionsOnly()
                    ? "the golden output holds " + expected[1] + " of its " + g.shape()[1] + " positions"
                    : expected.length > 1 && expected[1] != g.shape()[1]
                    ? "the sample has " + expected[1] + " real tokens of " + g.shape()[1]
                    : "compared whole, as the golden output " + g.shapeString();
            throw new IllegalArgumentException("fidelity: the compared part of candidate output '" + name
                    + "' of sample '" + golden.id() + "' has shape " + part.shapeString() + ", not "
                    + java.util.Arrays.toString(expected) + " (" + why + "): cut each sample's outputs with"
                    + " VariantFidelity.comparedPart and that sample's own attention_mask");
        }
        return part;
    }

    /**
     * What the comparison reads of one candidate output of one sample, as {@code (1, compared, ...)} or whole: at the
     * positions the golden output holds when it holds some only (a copy of those rows, after checking the shapes
     * agree), else, with {@code mask}, a per-token output's real tokens (a copy; whole for a sample with none), else
     * the whole candidate (its array, not copied). {@code golden} is the sample's golden outputs; {@code mask} its
     * {@code attention_mask}, or null to compare every position ({@link #of}).
     *
     * @throws IllegalArgumentException when the golden output holds some positions only and the shapes differ
     */
    public static FloatTensor comparedPart(GoldenOutputs.Sample golden, String name, FloatTensor candidate, float[] mask) {
        GoldenTensor g = goldenTensor(golden, name);
        if (g.holdsSomePositionsOnly()) {
            if (!java.util.Arrays.equals(g.shape(), candidate.shape())) {
                throw new IllegalArgumentException("fidelity: candidate output '" + name + "' of sample '" + golden.id()
                        + "' has shape " + candidate.shapeString() + ", the golden one " + g.shapeString());
            }
            return rowsAt(candidate, g.heldPositions());
        }
        return mask == null ? candidate : keepReal(name, GoldenTensor.of(candidate), mask);
    }

    /** The sample's golden output {@code name}, which the comparison needs. */
    private static GoldenTensor goldenTensor(GoldenOutputs.Sample golden, String name) {
        GoldenTensor g = golden.tensors().get(name);
        if (g == null) {
            throw new IllegalArgumentException("fidelity: the golden outputs of sample '" + golden.id() + "' have no"
                    + " output '" + name + "' (have " + golden.tensors().keySet() + ")");
        }
        return g;
    }

    /** The candidate's part of output {@code name} for the {@code sample}-th golden sample ({@link #comparedPart}). */
    @FunctionalInterface
    private interface Parts {
        FloatTensor get(String name, int sample);
    }

    /** {@code outputs}' output {@code name}, which the comparison needs. */
    private static FloatTensor output(Map<String, FloatTensor> outputs, String name) {
        FloatTensor c = outputs.get(name);
        if (c == null) {
            throw new IllegalArgumentException("fidelity: the candidate has no output '" + name + "' (has "
                    + outputs.keySet() + ")");
        }
        return c;
    }

    /**
     * One output at a time, so that at most one output's compared positions are copied at once: the samples'
     * tensors (their real tokens with {@code masks}, else whole) stacked for the golden side and the candidate's.
     * {@code parts} gives the candidate's side; {@link #of} and {@link #realTokens} cut it here from the whole
     * outputs, output by output, {@link #ofComparedParts} was handed it cut.
     */
    private static Map<String, FidelityReport> compare(GoldenOutputs golden, List<float[]> masks, Parts parts) {
        Map<String, FidelityReport> reports = new LinkedHashMap<>();
        for (String name : golden.outputNames()) {
            List<FloatTensor> ref = new ArrayList<>();
            List<FloatTensor> cand = new ArrayList<>();
            Map<String, List<Integer>> held = null;
            for (int i = 0; i < golden.samples().size(); i++) {
                GoldenOutputs.Sample sample = golden.samples().get(i);
                GoldenTensor g = sample.tensors().get(name);
                cand.add(parts.get(name, i));
                if (g.holdsSomePositionsOnly()) {
                    checkHeldAreReal(name, sample.id(), g, masks == null ? null : masks.get(i));
                    ref.add(heldRows(g));
                    if (held == null) {
                        held = new LinkedHashMap<>();
                    }
                    if (g.heldPositions().length > 0) {
                        held.put(sample.id(), java.util.Arrays.stream(g.heldPositions()).boxed().toList());
                    }
                    continue;
                }
                ref.add(masks == null ? g.expand() : keepReal(name, g, masks.get(i)));
            }
            if (held != null && held.isEmpty()) {
                throw new IllegalArgumentException("fidelity: the golden data holds output '" + name + "' at some"
                        + " positions only, and none of them in the samples compared (" + golden.samples().stream()
                        .map(GoldenOutputs.Sample::id).toList() + "): nothing of it can be compared");
            }
            FloatTensor r = stack(ref, name);
            FloatTensor c = stack(cand, name);
            FidelityReport report = classLogits(name) ? Fidelity.compareLogits(r, c) : Fidelity.compare(r, c);
            reports.put(name, held == null ? report : report.withComparedPositions(held));
        }
        return reports;
    }

    /**
     * Each position a held golden output holds is a real token of the sample (the golden inputs'
     * {@code attention_mask}): otherwise the two golden blobs do not belong together.
     */
    private static void checkHeldAreReal(String name, String id, GoldenTensor g, float[] mask) {
        for (int p : g.heldPositions()) {
            if (mask != null && (p >= mask.length || mask[p] == 0)) {
                throw new IllegalArgumentException("fidelity: the golden outputs hold '" + name + "' of sample '" + id
                        + "' at position " + p + ", which the golden inputs' " + Graphs.ATTENTION_MASK + " marks as"
                        + " padding: the golden inputs and outputs do not belong together");
            }
        }
    }

    /** The held rows of {@code g} as {@code (1, held, ...)}. */
    private static FloatTensor heldRows(GoldenTensor g) {
        int[] shape = g.shape().clone();
        shape[1] = g.heldPositions().length;
        return new FloatTensor(shape, g.stored());
    }

    /** {@code c}'s rows (axis 1) at {@code positions}, as {@code (1, positions, ...)}. */
    private static FloatTensor rowsAt(FloatTensor c, int[] positions) {
        int row = GoldenTensor.rowWidth(c.shape());
        float[] data = new float[positions.length * row];
        for (int i = 0; i < positions.length; i++) {
            System.arraycopy(c.data(), positions[i] * row, data, i * row, row);
        }
        int[] shape = c.shape().clone();
        shape[1] = positions.length;
        return new FloatTensor(shape, data);
    }

    /**
     * Outputs whose last axis holds one logit per class (a label, a vocabulary token, "B follows A" or not), so the
     * argmax is the answer and top-1 agreement means something: {@code logits} and a pre-training head's two.
     */
    private static boolean classLogits(String name) {
        return name.equals(Graphs.LOGITS) || name.equals(io.aneforge.model.TaskHead.PREDICTION_LOGITS)
                || name.equals(io.aneforge.model.TaskHead.SEQ_RELATIONSHIP_LOGITS);
    }

    /** A per-token output's positions whose mask is not 0 ({@code (1, real, ...)}); other outputs whole. */
    private static FloatTensor keepReal(String name, GoldenTensor t, float[] mask) {
        int s = mask.length;
        int real = realCount(mask);
        if (!Graphs.perToken(name, t.shape(), s) || real == 0) {
            return t.expand();
        }
        int row = t.size() / s;
        float[] data = new float[real * row];
        int k = 0;
        for (int p = 0; p < s; p++) {
            if (mask[p] != 0) {
                t.copy(p * row, data, k++ * row, row);
            }
        }
        int[] shape = t.shape().clone();
        shape[1] = real;
        return new FloatTensor(shape, data);
    }

    /** The positions whose mask is not 0. */
    private static int realCount(float[] mask) {
        int real = 0;
        for (float m : mask) {
            real += m != 0 ? 1 : 0;
        }
        return real;
    }

    /**
     * Concatenates samples along the sequence axis (1) of {@code (1, S, ...)} outputs, else along axis 0. Question
     * answering's {@code (1, S)} start and end logits are concatenated along the sequence too (each sample keeps its
     * own real tokens): they compare as one vector over every sample's positions.
     */
    private static FloatTensor stack(List<FloatTensor> parts, String name) {
        int[] first = parts.get(0).shape();
        boolean positions = name.equals(Graphs.START_LOGITS) || name.equals(Graphs.END_LOGITS);
        int axis = (first.length >= 3 || positions && first.length == 2) && first[0] == 1 ? 1 : 0;
        int[] shape = first.clone();
        shape[axis] = 0;
        int total = 0;
        for (int i = 0; i < parts.size(); i++) {
            int[] s = parts.get(i).shape();
            boolean ok = s.length == first.length;
            for (int d = 0; ok && d < s.length; d++) {
                ok = d == axis || s[d] == first[d];
            }
            if (!ok) {
                throw new IllegalArgumentException("fidelity: output '" + name + "' of sample " + i + " has shape "
                        + parts.get(i).shapeString() + ", sample 0 has " + parts.get(0).shapeString());
            }
            shape[axis] += s[axis];
            total += parts.get(i).size();
        }
        float[] data = new float[total];
        int off = 0;
        for (FloatTensor p : parts) {
            System.arraycopy(p.data(), 0, data, off, p.size());
            off += p.size();
        }
        return new FloatTensor(shape, data);
    }
}

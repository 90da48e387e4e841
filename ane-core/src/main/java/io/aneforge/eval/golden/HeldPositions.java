package io.aneforge.eval.golden;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.graph.Graphs;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which positions a version's golden outputs hold of a vocabulary-sized per-token output (golden format 3), and the
 * outputs as stored with them. A fill-mask, pre-training or GPT-2 model's logits are one vocabulary-wide row per
 * token: at every real token of the 32 fixed samples that is about 75 MB for BERT-base (V = 30522), 125 MB for
 * RoBERTa and GPT-2 (V ≈ 50k) and some 600 MB for XLM-RoBERTa (V = 250,002), which every agent would download per job
 * and hold. Stored here, such an output keeps its rows at a bounded number of real tokens only, spread evenly over
 * the samples; every other output (hidden states, pooled outputs, classifiers' logits) stays whole.
 *
 * <p>The rule, per output:
 * <ul>
 *   <li>vocabulary-sized: per-token ({@code (1, S, ...)}) with at least {@value #MIN_WIDTH} floats per position.
 *   Hidden sizes of the families aneforge converts stay far below (384 to 1024 for BERT-style encoders, 1600 for
 *   GPT-2 XL, 4096 for the largest XLM-RoBERTa), classifiers' labels too; vocabularies are far above (28,996 for
 *   cased BERT and up). A smaller vocabulary stays whole, which costs memory, not correctness;</li>
 *   <li>held positions: {@code max(}{@value #MIN_POSITIONS}{@code , }{@value #MAX_FLOATS}{@code  / width)} of the
 *   samples' real tokens, so an output holds at most 8 MiB whatever its vocabulary once that allows
 *   {@value #MIN_POSITIONS} positions: BERT-base 68 positions (8.30 MB), RoBERTa and GPT-2 41 (8.24 MB),
 *   XLM-RoBERTa 8 (8.00 MB), where every real token of the fixed samples (615 with BERT's uncased tokenizer) held
 *   about 75 MB, 125 MB and 600 MB;</li>
 *   <li>kept whole when the samples have no more real tokens than that (nothing would be saved).</li>
 * </ul>
 * The positions ({@link #choose}) are spread over the samples first (every sample one before any gets two; when there
 * are fewer positions than samples, evenly spaced samples from the first one), then evenly over each sample's real
 * tokens between its ends ([CLS]/[SEP], {@code <s>}/{@code </s>}: the first and last real tokens are held only by a
 * sample holding more positions than it has other tokens): the {@code 1 + ⌊(j + ½)·(r−2)/k⌋}-th real token. A masked
 * LM's (fill-mask, pre-training) samples carry its tokenizer's mask token at exactly these positions
 * ({@code MaskedSamples} calls {@link #positions} on the same attention masks, which masking does not change, before
 * the outputs exist), so the comparison measures the logits where the model fills a mask; a held special token (a
 * sentence pair's middle {@code [SEP]}) stays as it is and is compared too. GPT-2's samples are plain, as are those of
 * a masked LM whose tokenizer has no mask token (its held positions are then ordinary tokens, where it mostly
 * predicts the token itself). The first sample always holds one, because a benchmark job compares the first sample
 * only.
 *
 * <p>What this costs: an agent compares a reduced output at its held positions only (cosine per held token, the
 * worst of them, top-1 agreement over them; {@code VariantFidelity}), and says which ones
 * ({@code FidelityReport.comparedPositions}). A variant wrong only at other positions is not seen by the agents.
 * {@code convert}'s own fidelity, computed in memory before anything is stored, still compares every real token; the
 * converter worker computes no fidelity, so a version the registry's worker converted is checked at the held
 * positions only.
 */
public final class HeldPositions {

    /** Floats per position from which a per-token output is vocabulary-sized (see the class comment). */
    public static final int MIN_WIDTH = 8192;
    /** Floats an output holds at most once it is reduced: 8 MiB (unless {@value #MIN_POSITIONS} rows need more). */
    public static final long MAX_FLOATS = 1L << 21;
    /** Positions a reduced output holds at least, whatever its width. */
    public static final int MIN_POSITIONS = 8;

    private HeldPositions() {
    }

    /**
     * The golden outputs as the registry stores them: {@link #reduce} with the default bounds, unless the golden
     * format setting ({@link GoldenOutputsCodec#configuredVersion()}) is below 3, which keeps every position (a blob
     * that agents of an earlier release read). {@code inputs} are the golden inputs, in the same sample order; their
     * {@code attention_mask} says which positions are real tokens.
     */
    public static GoldenOutputs forStorage(GoldenOutputs inputs, GoldenOutputs outputs) {
        if (GoldenOutputsCodec.configuredVersion() < 3) {
            return outputs;
        }
        return reduce(inputs, outputs, MIN_WIDTH, MAX_FLOATS);
    }

    /**
     * {@link #forStorage(GoldenOutputs, GoldenOutputs)}'s positions for outputs of {@code outputShapes} (name to the
     * shape of each sample's output, {@code (1, S, ...)} for a per-token one), known before the outputs are computed:
     * they depend on the inputs and the shapes only. A golden pass that applies them sample by sample
     * ({@link Held#apply}) holds one sample's vocabulary-sized outputs at a time, and stores the same bytes.
     */
    public static Held forStorage(GoldenOutputs inputs, Map<String, int[]> outputShapes) {
        if (GoldenOutputsCodec.configuredVersion() < 3) {
            return Held.NONE;
        }
        return held(inputs, outputShapes, MIN_WIDTH, MAX_FLOATS);
    }

    /**
     * {@code outputs} with every per-token output of at least {@code minWidth} floats per position held at
     * {@code max(MIN_POSITIONS, maxFloats / width)} real tokens ({@link #choose}); other outputs, and one whose samples
     * have no more real tokens than that, as they are.
     */
    public static GoldenOutputs reduce(GoldenOutputs inputs, GoldenOutputs outputs, int minWidth, long maxFloats) {
        if (inputs.samples().size() != outputs.samples().size()) {
            throw new IllegalArgumentException("golden data: " + inputs.samples().size() + " input samples for "
                    + outputs.samples().size() + " output samples");
        }
        for (int i = 0; i < inputs.samples().size(); i++) {
            GoldenOutputs.Sample in = inputs.samples().get(i);
            if (!in.id().equals(outputs.samples().get(i).id())) {
                throw new IllegalArgumentException("golden data: input sample " + i + " is '" + in.id()
                        + "', output sample " + i + " is '" + outputs.samples().get(i).id() + "'");
            }
        }
        Map<String, int[]> shapes = new LinkedHashMap<>();
        outputs.samples().get(0).tensors().forEach((name, t) -> shapes.put(name, t.shape()));
        Held held = held(inputs, shapes, minWidth, maxFloats);
        if (!held.reducesAny()) {
            return outputs;
        }
        List<GoldenOutputs.Sample> samples = new ArrayList<>();
        for (int i = 0; i < outputs.samples().size(); i++) {
            samples.add(held.apply(i, outputs.samples().get(i)));
        }
        return new GoldenOutputs(samples);
    }

    /** {@link #reduce}'s positions for outputs of {@code outputShapes} (see {@link #forStorage(GoldenOutputs, Map)}). */
    public static Held held(GoldenOutputs inputs, Map<String, int[]> outputShapes, int minWidth, long maxFloats) {
        List<boolean[]> real = new ArrayList<>();
        for (GoldenOutputs.Sample in : inputs.samples()) {
            real.add(realTokens(in));
        }
        Map<String, int[][]> held = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> output : outputShapes.entrySet()) {
            String name = output.getKey();
            int[] shape = output.getValue();
            int seqLen = real.get(0).length;
            if (!Graphs.perToken(name, shape, seqLen)) {
                continue;
            }
            int[][] positions = positions(real, GoldenTensor.rowWidth(shape), minWidth, maxFloats);
            if (positions != null) {
                held.put(name, positions);
            }
        }
        return new Held(held, real);
    }

    /**
     * Per reduced output, the positions each sample holds ({@code positions.get(name)[i]} for sample i; no output
     * when nothing is reduced), and each sample's real tokens.
     *
     * <p>Immutable although its parts are arrays: the constructor copies what it is given and {@link #positions()} and
     * {@link #real()} hand out copies, so neither the caller that built it nor one that reads it can change what
     * {@link #apply} stores for another (a golden pass applies the same value to every sample). {@link #apply} reads
     * the held arrays themselves, so storing a sample costs no copy beyond the one {@link GoldenTensor#atPositions}
     * makes of its positions; callers that only ask whether anything is reduced use {@link #reducesAny}.
     */
    public record Held(Map<String, int[][]> positions, List<boolean[]> real) {
        /** Nothing reduced: every output kept whole. */
        public static final Held NONE = new Held(Map.of(), List.of());

        public Held {
            Map<String, int[][]> copied = new LinkedHashMap<>();
            for (Map.Entry<String, int[][]> e : positions.entrySet()) {
                int[][] perSample = e.getValue();
                if (perSample.length != real.size()) {
                    throw new IllegalArgumentException("held positions of output '" + e.getKey() + "' are given for "
                            + perSample.length + " samples, but the real tokens for " + real.size()
                            + "; give one row of positions per sample, in the samples' order");
                }
                copied.put(e.getKey(), deepCopy(perSample));
            }
            positions = Collections.unmodifiableMap(copied);
            real = real.stream().map(boolean[]::clone).toList();
        }

        /** A copy of the held positions per reduced output: changing it changes nothing here. */
        @Override
        public Map<String, int[][]> positions() {
            Map<String, int[][]> copy = new LinkedHashMap<>();
            positions.forEach((name, perSample) -> copy.put(name, deepCopy(perSample)));
            return copy;
        }

        /** A copy of each sample's real tokens: changing it changes nothing here. */
        @Override
        public List<boolean[]> real() {
            return real.stream().map(boolean[]::clone).toList();
        }

        /** Whether some output is held at some positions only (false for {@link #NONE}). */
        public boolean reducesAny() {
            return !positions.isEmpty();
        }

        /** Sample {@code index}'s outputs as stored: each reduced output at its held positions, the others whole. */
        public GoldenOutputs.Sample apply(int index, GoldenOutputs.Sample s) {
            if (positions.isEmpty()) {
                return s;
            }
            Map<String, GoldenTensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, GoldenTensor> e : s.tensors().entrySet()) {
                int[][] at = positions.get(e.getKey());
                if (at != null && !Graphs.perToken(e.getKey(), e.getValue().shape(), real.get(index).length)) {
                    throw new IllegalArgumentException("golden data: output '" + e.getKey() + "' of sample '" + s.id()
                            + "' has shape " + e.getValue().shapeString() + ", not the per-token shape its held positions"
                            + " were chosen for");
                }
                // atPositions copies the positions it keeps, so the stored tensor shares no array with this value
                tensors.put(e.getKey(), at == null ? e.getValue() : e.getValue().atPositions(at[index]));
            }
            return new GoldenOutputs.Sample(s.id(), tensors);
        }

        /** Equal when the same outputs hold the same positions over the same real tokens (arrays by content). */
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Held h) || !positions.keySet().equals(h.positions.keySet())
                    || real.size() != h.real.size()) {
                return false;
            }
            for (Map.Entry<String, int[][]> e : positions.entrySet()) {
                if (!Arrays.deepEquals(e.getValue(), h.positions.get(e.getKey()))) {
                    return false;
                }
            }
            for (int i = 0; i < real.size(); i++) {
                if (!Arrays.equals(real.get(i), h.real.get(i))) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 0;
            for (Map.Entry<String, int[][]> e : positions.entrySet()) {
                h += e.getKey().hashCode() ^ Arrays.deepHashCode(e.getValue());
            }
            for (boolean[] r : real) {
                h = 31 * h + Arrays.hashCode(r);
            }
            return h;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("Held[");
            positions.forEach((name, perSample) -> b.append(name).append('=').append(Arrays.deepToString(perSample))
                    .append(", "));
            return b.append(real.size()).append(" samples]").toString();
        }

        private static int[][] deepCopy(int[][] perSample) {
            int[][] copy = new int[perSample.length][];
            for (int i = 0; i < perSample.length; i++) {
                copy[i] = perSample[i].clone();
            }
            return copy;
        }
    }

    /**
     * The positions {@link #reduce} holds of a per-token output of {@code width} floats per position, per sample
     * ascending ({@link #choose} of {@code max(MIN_POSITIONS, maxFloats / width)}), or null when it keeps the output
     * whole (narrower than {@code minWidth}, or no more real tokens than that). Known before the output is computed:
     * a masked LM's golden samples carry their mask tokens at these positions ({@code MaskedSamples}).
     */
    public static int[][] positions(List<boolean[]> real, long width, int minWidth, long maxFloats) {
        if (width < minWidth) {
            return null;
        }
        return choose(real, (int) Math.min(Integer.MAX_VALUE, Math.max(MIN_POSITIONS, maxFloats / width)));
    }

    /**
     * {@code total} positions among the real tokens ({@code real.get(i)[p]}: position {@code p} of sample {@code i}
     * is a real token), per sample ascending, or null when the samples have no more real tokens than {@code total}
     * (they would all be held). Spread over the samples first, in rounds: each round gives one more position to
     * evenly spaced samples among those with a real token left, starting with the first (so the first sample always
     * holds one); then, within a sample of {@code r} real tokens holding {@code k}, evenly over its interior real
     * tokens (the {@code 1 + ⌊(j + ½)·(r−2)/k⌋}-th for {@code j < k}; over all {@code r} only when {@code k > r − 2},
     * {@link #spread}). Deterministic: the same samples give the same positions on every run.
     */
    public static int[][] choose(List<boolean[]> real, int total) {
        int n = real.size();
        int[][] realPositions = new int[n][];
        long all = 0;
        for (int i = 0; i < n; i++) {
            boolean[] r = real.get(i);
            int count = 0;
            for (boolean b : r) {
                count += b ? 1 : 0;
            }
            realPositions[i] = new int[count];
            int k = 0;
            for (int p = 0; p < r.length; p++) {
                if (r[p]) {
                    realPositions[i][k++] = p;
                }
            }
            all += count;
        }
        if (all <= total) {
            return null;
        }
        int[] per = new int[n];
        int left = total;
        while (left > 0) {
            List<Integer> open = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (per[i] < realPositions[i].length) {
                    open.add(i);
                }
            }
            int m = Math.min(left, open.size()); // open is never empty: fewer positions than real tokens are left
            for (int j = 0; j < m; j++) {
                per[open.get((int) ((long) j * open.size() / m))]++;
            }
            left -= m;
        }
        int[][] out = new int[n][];
        for (int i = 0; i < n; i++) {
            int[] among = realPositions[i];
            int k = per[i];
            out[i] = new int[k];
            for (int j = 0; j < k; j++) {
                out[i][j] = among[spread(j, k, among.length)];
            }
        }
        return out;
    }

    /**
     * The index among {@code r} real tokens of the {@code j}-th of {@code k} held ones: the interior tokens
     * {@code 1 .. r−2} when there are at least {@code k} of them ({@code 1 + ⌊(2j+1)(r−2)/2k⌋}), so a sample's first
     * and last real tokens ([CLS] and [SEP] of a BERT-style tokenizer, {@code <s>} and {@code </s>}) are held only
     * when it has too few others; else every real token ({@code ⌊(2j+1)r/2k⌋}). Spreading over all {@code r} instead
     * would land on both ends of a short sample: "Hello world." is 5 tokens with BERT's tokenizer, and 3 held of 5 were
     * [CLS], "world" and [SEP].
     */
    static int spread(int j, int k, int r) {
        int interior = r - 2;
        if (k <= interior) {
            return 1 + evenly(j, k, interior);
        }
        return evenly(j, k, r);
    }

    /**
     * The index among {@code n} of the {@code j}-th of {@code k} evenly spread ones, each in the middle of its
     * {@code n / k} share: {@code ⌊(2j+1)·n/2k⌋}, for {@code j < k <= n}.
     */
    public static int evenly(int j, int k, int n) {
        return (int) ((2L * j + 1) * n / (2L * k));
    }

    /** The real tokens of one sample's inputs: its {@code attention_mask}'s non-zero positions, or every position. */
    private static boolean[] realTokens(GoldenOutputs.Sample inputs) {
        GoldenTensor mask = inputs.tensors().get(Graphs.ATTENTION_MASK);
        GoldenTensor ids = inputs.tensors().get(Graphs.INPUT_IDS);
        if (mask == null && ids == null) {
            throw new IllegalArgumentException("golden inputs of sample '" + inputs.id() + "' have neither "
                    + Graphs.ATTENTION_MASK + " nor " + Graphs.INPUT_IDS + " (has " + inputs.tensors().keySet() + ")");
        }
        FloatTensor t = (mask != null ? mask : ids).expand();
        boolean[] real = new boolean[t.size()];
        for (int p = 0; p < real.length; p++) {
            real[p] = mask == null || t.data()[p] != 0;
        }
        return real;
    }
}

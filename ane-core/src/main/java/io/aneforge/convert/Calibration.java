package io.aneforge.convert;

import io.aneforge.graph.Graphs;
import io.aneforge.kernels.Gemm;
import io.aneforge.kernels.Parallel;
import io.aneforge.mil.Arg;
import io.aneforge.mil.Names;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Var;
import io.aneforge.model.ImportedModel;
import io.aneforge.quant.ActivationRange;
import io.aneforge.quant.CalibrationInputs;
import io.aneforge.quant.InputGram;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPTQ's calibration statistics ({@link CalibrationInputs}): the unconverted FP32 graph (the golden one,
 * standard layout) runs on calibration texts, and for every {@code linear} op the Gram matrix
 * {@code Σ x xᵀ} of its input rows is summed over the real tokens (padding rows excluded). Projections that
 * share an input (query, key and value) share one matrix. Both layouts name a weight alike, so the ane
 * layout's 1×1 convs find the statistics of the standard layout's linears.
 *
 * <p>The same pass records each linear input's range (smallest and largest value over the real tokens): W8A8's
 * activation scales ({@link #range}). The fingerprint covers the sums only; the ranges are read from the same
 * activations.
 *
 * <p>The texts ({@link #texts()}, {@code calibration.txt}: 64 sentences, varied lengths and languages) are
 * not the 32 evaluation sentences ({@link Samples}), so fidelity is measured on text calibration never saw. A model
 * that takes {@code token_type_ids} ({@link ImportedModel#tokenTypeInput}) reads sentence pairs (its fidelity samples
 * are pairs, {@link Golden#sampleInputs}), so it is calibrated on pairs too ({@link #pairs()},
 * {@code calibration-pairs.txt}: 64 pairs, none of them an evaluation pair): its second segment's activations (the
 * token type table's row 1 added to every token of the second text) are then in the statistics, as they are in
 * its real inputs. {@link #texts(ImportedModel)} picks the set; a pair is written as its two texts joined by a tab,
 * the format of {@code --calibration} files for such a model ({@link #inputs}).
 *
 * <p>Reproducible where the golden outputs are: the reference runtime's vector kernels give the same bits
 * with 256- and 512-bit vectors and, on a CPU with hardware FMA, without the Vector API too (the plain GEMM
 * chains {@code Math.fma} in the vector kernel's order; everything else the golden graph runs is the same code on
 * both paths). Only a JVM without hardware FMA ({@code -XX:-UseFMA}) computes other bits (docs/converter.md, "GPTQ").
 * A batch's sums are computed in float by the runtime's matrix kernel, and batches added in doubles.
 */
public final class Calibration implements CalibrationInputs {
    public static final String RESOURCE = "calibration.txt";
    public static final String PAIRS_RESOURCE = "calibration-pairs.txt";
    /** What separates the two texts of a calibration pair on one line (for a model with token types). */
    public static final char PAIR_SEPARATOR = '\t';
    /**
     * Positions per batch of predictions: every probed activation of a batch is held at once (at seq 128, 8 texts,
     * about 40 MB for MiniLM), so long sequences take fewer texts per batch, at least one.
     */
    private static final int BATCH_POSITIONS = 1024;

    private final Map<String, InputGram> byWeight;
    private final Map<String, ActivationRange> rangeByWeight;
    private final int samples;
    private final long tokens;
    private final String fingerprint;

    private Calibration(Map<String, InputGram> byWeight, Map<String, ActivationRange> rangeByWeight, int samples,
                        long tokens) {
        this.byWeight = byWeight;
        this.rangeByWeight = rangeByWeight;
        this.samples = samples;
        this.tokens = tokens;
        this.fingerprint = digest(byWeight, samples, tokens);
    }

    /** sha256 over the texts and tokens counted and each weight's name and sums (in graph order), as hex. */
    private static String digest(Map<String, InputGram> byWeight, int samples, long tokens) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer head = ByteBuffer.allocate(12).putInt(samples).putLong(tokens);
        sha.update(head.array());
        Map<InputGram, Boolean> seen = new IdentityHashMap<>();
        ByteBuffer buf = ByteBuffer.allocate(4 * 4096);
        for (Map.Entry<String, InputGram> e : byWeight.entrySet()) {
            sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            InputGram g = e.getValue();
            sha.update(ByteBuffer.allocate(12).putInt(g.features()).putLong(g.tokens()).array());
            if (seen.put(g, Boolean.TRUE) != null) {
                continue; // shared with an earlier weight (query, key and value): its sums are in already
            }
            float[] s = g.sums();
            for (int i = 0; i < s.length; i += 4096) {
                buf.clear();
                buf.asFloatBuffer().put(s, i, Math.min(4096, s.length - i));
                sha.update(buf.array(), 0, 4 * Math.min(4096, s.length - i));
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The fixed calibration texts, in file order. */
    public static List<String> texts() {
        return Samples.lines(RESOURCE);
    }

    /** The fixed calibration pairs, in file order (for models that take {@code token_type_ids}). */
    public static List<Samples.Pair> pairs() {
        return Samples.pairs(PAIRS_RESOURCE);
    }

    /**
     * The built-in calibration texts of {@code model}: {@link #texts()} for a model without token types (the texts
     * it always had, so its statistics and packages keep their bytes), the {@link #pairs()} as {@code first<TAB>second}
     * lines for a model that takes {@code token_type_ids}.
     */
    public static List<String> texts(ImportedModel model) {
        if (!model.tokenTypeInput()) {
            return texts();
        }
        return pairs().stream().map(p -> p.first() + PAIR_SEPARATOR + p.second()).toList();
    }

    /** Statistics of {@code model} on {@link #texts(ImportedModel)} at {@code seqLen}, on the reference runtime. */
    public static Calibration measure(ImportedModel model, Tokenizer tokenizer, int seqLen) {
        return measure(model, tokenizer, texts(model), seqLen);
    }

    /**
     * Statistics of {@code model} on {@code texts} (e.g. a user's own, from the model's domain) at {@code seqLen};
     * for a model with token types a text with a tab is a pair ({@link #inputs}).
     */
    public static Calibration measure(ImportedModel model, Tokenizer tokenizer, List<String> texts, int seqLen) {
        return measure(model, inputs(model, tokenizer, texts, seqLen), seqLen,
                ProgramEvaluator.runtime(Parallel.threads()));
    }

    /**
     * The program inputs of calibration texts. Without token types every line is one text, tabs included (the inputs
     * calibration always had). With token types a line holding a tab is a sentence pair, split at its first tab (the
     * second text in segment 1, cut as the fidelity samples are: tokenizer.json's truncation strategy, longest first
     * when that one cannot fit the pair, {@link Golden#encodeSamplePair}); a line without one is a single text
     * (segment 0 throughout).
     */
    public static List<Map<String, FloatTensor>> inputs(ImportedModel model, Tokenizer tokenizer, List<String> texts,
                                                        int seqLen) {
        if (!model.tokenTypeInput()) {
            return Golden.inputs(tokenizer, texts, seqLen, false);
        }
        List<Map<String, FloatTensor>> all = new ArrayList<>();
        for (String text : texts) {
            int tab = text.indexOf(PAIR_SEPARATOR);
            all.add(tab < 0 ? Golden.inputs(tokenizer.encode(text, seqLen), true)
                    : Golden.inputs(Golden.encodeSamplePair(tokenizer,
                            new Samples.Pair(text.substring(0, tab), text.substring(tab + 1)), seqLen), true));
        }
        return all;
    }

    /**
     * Statistics of {@code model} on tokenized {@code inputs} ({@link Golden#inputs}) at {@code seqLen}. Each batch
     * runs on a sequence prefix holding its texts' real tokens ({@link SamplePrefix#of}), as fidelity does: the same
     * floats on the real tokens, which are all the statistics read, so the same statistics as the whole program's
     * ({@code CalibrationPrefixTest}), for less attention and per-position work.
     */
    public static Calibration measure(ImportedModel model, List<Map<String, FloatTensor>> inputs, int seqLen,
                                      ProgramEvaluator evaluator) {
        return measure(model, inputs, seqLen, evaluator, SamplePrefix::of);
    }

    /** {@link #measure(ImportedModel, List, int, ProgramEvaluator)}, each batch on the prefixes {@code prefix} picks. */
    static Calibration measure(ImportedModel model, List<Map<String, FloatTensor>> inputs, int seqLen,
                               ProgramEvaluator evaluator,
                               java.util.function.Function<List<Map<String, FloatTensor>>, SamplePrefix> prefix) {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("calibration needs at least one text");
        }
        Program golden = VariantConverter.build(model, Golden.referenceSpec(seqLen)).program();
        // the input of each linear, and the weights that multiply it
        Map<String, Var> probes = new LinkedHashMap<>();
        Map<String, List<String>> weightsByInput = new LinkedHashMap<>();
        for (Operation op : golden.operations()) {
            if (!op.type().equals("linear")) {
                continue;
            }
            Arg x = op.inputs().get("x").get(0);
            Arg w = op.inputs().get("weight").get(0);
            if (x instanceof Var xv && w instanceof Var wv) {
                probes.putIfAbsent(xv.name(), xv);
                weightsByInput.computeIfAbsent(xv.name(), k -> new ArrayList<>()).add(wv.name());
            }
        }
        if (probes.isEmpty()) {
            throw new ConversionException("the " + model.config().modelType() + " graph has no linear projections to calibrate");
        }
        Program probe = new Program(golden.target(), golden.inputs(), golden.operations(), List.copyOf(probes.values()),
                golden.metadata());
        Map<String, double[]> sums = new LinkedHashMap<>();
        Map<String, Long> counts = new LinkedHashMap<>();
        Map<String, ActivationRange> ranges = new LinkedHashMap<>();
        long realTokens = 0;
        int perBatch = Math.max(1, BATCH_POSITIONS / seqLen);
        for (int b0 = 0; b0 < inputs.size(); b0 += perBatch) {
            List<Map<String, FloatTensor>> batch = inputs.subList(b0, Math.min(inputs.size(), b0 + perBatch));
            int[] real = new int[batch.size()];
            for (int i = 0; i < real.length; i++) {
                real[i] = realLength(batch.get(i).get(Graphs.ATTENTION_MASK), seqLen, b0 + i);
                realTokens += real[i];
            }
            // per-token outputs come back on the prefix, (1, L, C) with L >= real[i]: the first real[i] rows are read
            List<Map<String, FloatTensor>> outputs = prefix.apply(batch).runRealTokens(probe, evaluator);
            for (Var v : probes.values()) {
                int features = v.shape()[v.rank() - 1];
                double[] s = sums.computeIfAbsent(v.name(), k -> new double[features * features]);
                // per-token inputs (1, S, C): the real tokens of each text; others (the pooler's first token) whole
                boolean perToken = v.rank() == 3 && v.shape()[1] == seqLen;
                int n = 0;
                int[] used = new int[outputs.size()];
                for (int i = 0; i < outputs.size(); i++) {
                    used[i] = perToken ? real[i] : outputs.get(i).get(v.name()).size() / features;
                    n += used[i];
                }
                float[] x = new float[n * features];
                int at = 0;
                for (int i = 0; i < outputs.size(); i++) {
                    System.arraycopy(outputs.get(i).get(v.name()).data(), 0, x, at, used[i] * features);
                    at += used[i] * features;
                }
                accumulate(s, x, n, features);
                if (n > 0) {
                    ranges.merge(v.name(), range(x), ActivationRange::union);
                }
                counts.merge(v.name(), (long) n, Long::sum);
            }
        }
        Map<String, InputGram> byWeight = new LinkedHashMap<>();
        Map<String, ActivationRange> rangeByWeight = new LinkedHashMap<>();
        weightsByInput.forEach((input, weights) -> {
            double[] s = sums.get(input);
            int features = (int) Math.round(Math.sqrt(s.length));
            float[] stored = new float[s.length];
            for (int i = 0; i < s.length; i++) {
                stored[i] = (float) s[i];
            }
            InputGram gram = new InputGram(features, counts.get(input), stored);
            for (String w : weights) {
                byWeight.put(w, gram);
                if (ranges.containsKey(input)) {
                    rangeByWeight.put(w, ranges.get(input));
                }
            }
        });
        return new Calibration(byWeight, rangeByWeight, inputs.size(), realTokens);
    }

    /** The statistics of the inputs of {@code weightName} (a Hub tensor name, as the graph builders pass it). */
    @Override
    public InputGram of(String weightName) {
        return byWeight.get(Names.sanitize(weightName));
    }

    @Override
    public ActivationRange range(String weightName) {
        return rangeByWeight.get(Names.sanitize(weightName));
    }

    /** The smallest and largest of {@code x} (a batch's real-token rows). */
    private static ActivationRange range(float[] x) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float f : x) {
            min = Math.min(min, f);
            max = Math.max(max, f);
        }
        return new ActivationRange(min, max);
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    public int samples() {
        return samples;
    }

    /** Real (not padding) tokens over all texts. */
    public long tokens() {
        return tokens;
    }

    /** Weights with statistics. */
    public int weights() {
        return byWeight.size();
    }

    /** The real tokens of a text: its mask's leading ones (the tokenizer pads at the end; anything else is refused). */
    private static int realLength(FloatTensor mask, int seqLen, int text) {
        int real = 0;
        while (real < seqLen && mask.data()[real] != 0) {
            real++;
        }
        for (int i = real; i < seqLen; i++) {
            if (mask.data()[i] != 0) {
                throw new IllegalArgumentException("calibration input " + text + " has padding before position " + i
                        + " of its attention mask; calibration takes end-padded inputs (as Golden.inputs makes them)");
            }
        }
        return real;
    }

    /**
     * Adds {@code Xᵀ X} of the {@code rows} rows of {@code x} to {@code s}: a batch's sums in float by the runtime's
     * matrix kernel (as the activations themselves are computed; each sum in token order whatever the threads),
     * then into the doubles that hold the whole calibration.
     */
    private static void accumulate(double[] s, float[] x, int rows, int features) {
        if (rows == 0) {
            return;
        }
        float[] batch = new float[features * features];
        Gemm.fast(features, features, rows, x, 0, features, true, x, 0, features, false, batch, 0, features, true);
        for (int i = 0; i < batch.length; i++) {
            s[i] += batch[i];
        }
    }
}

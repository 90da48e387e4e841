package io.aneforge.convert;

import io.aneforge.graph.Graphs;
import io.aneforge.kernels.Parallel;
import io.aneforge.mil.Arg;
import io.aneforge.mil.Names;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Var;
import io.aneforge.model.ImportedModel;
import io.aneforge.quant.CalibrationInputs;
import io.aneforge.quant.InputGram;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
 * <p>The texts ({@link #texts()}, {@code calibration.txt}: 64 sentences, varied lengths and languages) are
 * not the 32 evaluation sentences ({@link Samples}), so fidelity is measured on text calibration never saw.
 *
 * <p>Reproducible where the golden outputs are: the reference runtime's vector kernels give the same bits
 * with 256- and 512-bit vectors; a JVM without the Vector API runs the plain kernels, whose activations
 * differ in the last bits, and GPTQ's roundings then differ here and there (docs/converter.md, "GPTQ").
 * The sums are doubles added in token order.
 */
public final class Calibration implements CalibrationInputs {
    public static final String RESOURCE = "calibration.txt";
    /** Texts per batch of predictions (bounds the activations held at once). */
    private static final int BATCH = 8;

    private final Map<String, InputGram> byWeight;
    private final int samples;
    private final long tokens;
    private final String fingerprint;

    private Calibration(Map<String, InputGram> byWeight, int samples, long tokens) {
        this.byWeight = byWeight;
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
        ByteBuffer buf = ByteBuffer.allocate(8 * 4096);
        for (Map.Entry<String, InputGram> e : byWeight.entrySet()) {
            sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            InputGram g = e.getValue();
            sha.update(ByteBuffer.allocate(12).putInt(g.features()).putLong(g.tokens()).array());
            if (seen.put(g, Boolean.TRUE) != null) {
                continue; // shared with an earlier weight (query, key and value): its sums are in already
            }
            double[] s = g.sums();
            for (int i = 0; i < s.length; i += 4096) {
                buf.clear();
                buf.asDoubleBuffer().put(s, i, Math.min(4096, s.length - i));
                sha.update(buf.array(), 0, 8 * Math.min(4096, s.length - i));
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The fixed calibration texts, in file order. */
    public static List<String> texts() {
        try (InputStream in = Calibration.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource io/aneforge/convert/" + RESOURCE + " is missing from ane-core");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Statistics of {@code model} on {@link #texts()} at {@code seqLen}, on the reference runtime. */
    public static Calibration measure(ImportedModel model, Tokenizer tokenizer, int seqLen) {
        return measure(model, Golden.inputs(tokenizer, texts(), seqLen), seqLen, ProgramEvaluator.runtime(Parallel.threads()));
    }

    /** Statistics of {@code model} on tokenized {@code inputs} ({@link Golden#inputs}) at {@code seqLen}. */
    public static Calibration measure(ImportedModel model, List<Map<String, FloatTensor>> inputs, int seqLen,
                                      ProgramEvaluator evaluator) {
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
        long realTokens = 0;
        for (int b0 = 0; b0 < inputs.size(); b0 += BATCH) {
            List<Map<String, FloatTensor>> batch = inputs.subList(b0, Math.min(inputs.size(), b0 + BATCH));
            int[] real = new int[batch.size()];
            for (int i = 0; i < real.length; i++) {
                real[i] = realLength(batch.get(i).get(Graphs.ATTENTION_MASK), seqLen);
                realTokens += real[i];
            }
            List<Map<String, FloatTensor>> outputs = evaluator.runRealTokens(probe, batch, real);
            for (Var v : probes.values()) {
                int features = v.shape()[v.rank() - 1];
                double[] s = sums.computeIfAbsent(v.name(), k -> new double[features * features]);
                long n = 0;
                for (int i = 0; i < outputs.size(); i++) {
                    FloatTensor t = outputs.get(i).get(v.name());
                    int rows = t.size() / features;
                    // rows along the sequence axis: the real tokens only; other inputs (the pooler's first token) whole
                    int used = rows == seqLen ? real[i] : rows;
                    accumulate(s, t.data(), used, features);
                    n += used;
                }
                counts.merge(v.name(), n, Long::sum);
            }
        }
        Map<String, InputGram> byWeight = new LinkedHashMap<>();
        weightsByInput.forEach((input, weights) -> {
            double[] s = sums.get(input);
            int features = (int) Math.round(Math.sqrt(s.length));
            mirror(s, features);
            InputGram gram = new InputGram(features, counts.get(input), s);
            for (String w : weights) {
                byWeight.put(w, gram);
            }
        });
        return new Calibration(byWeight, inputs.size(), realTokens);
    }

    /** The statistics of the inputs of {@code weightName} (a Hub tensor name, as the graph builders pass it). */
    @Override
    public InputGram of(String weightName) {
        return byWeight.get(Names.sanitize(weightName));
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

    /** Positions up to the last one the mask keeps (the tokenizer pads at the end). */
    private static int realLength(FloatTensor mask, int seqLen) {
        int last = 0;
        for (int i = 0; i < seqLen; i++) {
            if (mask.data()[i] != 0) {
                last = i + 1;
            }
        }
        return last;
    }

    /**
     * Adds {@code Σ x xᵀ} of the first {@code rows} rows of {@code x} to the upper triangle of {@code s}: row a of
     * the sums over rows, in row order, so each sum has one order whatever the threads.
     */
    private static void accumulate(double[] s, float[] x, int rows, int features) {
        Parallel.forRange(features, Math.max(1, 64), (a0, a1) -> {
            for (int a = a0; a < a1; a++) {
                int at = a * features;
                for (int r = 0; r < rows; r++) {
                    int row = r * features;
                    double xa = x[row + a];
                    if (xa != 0) {
                        for (int c = a; c < features; c++) {
                            s[at + c] += xa * x[row + c];
                        }
                    }
                }
            }
        });
    }

    private static void mirror(double[] s, int n) {
        for (int a = 0; a < n; a++) {
            for (int c = a + 1; c < n; c++) {
                s[c * n + a] = s[a * n + c];
            }
        }
    }
}

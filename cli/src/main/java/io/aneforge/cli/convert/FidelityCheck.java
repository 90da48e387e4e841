package io.aneforge.cli.convert;

import io.aneforge.cli.reference.Reference;
import io.aneforge.cli.run.PackageRunner;
import io.aneforge.convert.Golden;
import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.convert.SamplePrefix;
import io.aneforge.convert.Samples;
import io.aneforge.convert.VariantFidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.tensor.FloatTensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Golden outputs of a source model on the fixed samples, and the fidelity of written packages
 * against them. Packages are measured as read back from disk, so the numbers describe what ships.
 * {@link #none()} measures nothing ({@code convert --samples 0}): no golden outputs, empty reports.
 *
 * <p>A measurement is two steps, {@link #run} (the package's outputs on the sample inputs) and
 * {@link #compare} (those outputs against the golden ones, on real tokens); {@link #measure} does
 * both. {@code convert} runs several packages at once on worker threads and compares on its own
 * thread once the golden outputs are there. The numbers are the same either way: the same program,
 * inputs and kernels, and the kernels give the same floats whatever their thread count.
 */
public final class FidelityCheck {

    public static final int MAX_SAMPLES = 32;

    /** The sample prefix and the full-length inputs of the first {@code samples} samples to the golden outputs. */
    private final java.util.function.BiFunction<SamplePrefix, List<Map<String, FloatTensor>>, GoldenOutputs> goldenSource;
    /**
     * Full-length inputs of every fixed sample, and how many of the first to keep on every real token, to the golden
     * pass whose outputs are stored ({@code Golden.forStorage}).
     */
    private final java.util.function.BiFunction<List<Map<String, FloatTensor>>, Integer, Golden.Pass> goldenDataSource;
    private final Supplier<List<Map<String, FloatTensor>>> inputSource;
    private final int samples;
    private final boolean keepsGoldenData;
    private final int threads;
    /** What computes the golden outputs fidelity compares with (the golden data is always the FP32 graph's). */
    private final Reference reference;
    private List<Map<String, FloatTensor>> tokenized;
    private SamplePrefix prefix;
    private GoldenOutputs golden;
    private GoldenData goldenData;

    /**
     * @param inputs the full-length inputs of the samples the golden pass runs on: the first {@code samples}
     *               fixed ones, or all of them when {@code keepsGoldenData}
     */
    private FidelityCheck(java.util.function.BiFunction<SamplePrefix, List<Map<String, FloatTensor>>, GoldenOutputs> golden,
                          java.util.function.BiFunction<List<Map<String, FloatTensor>>, Integer, Golden.Pass> goldenData,
                          Supplier<List<Map<String, FloatTensor>>> inputs, int samples, boolean keepsGoldenData,
                          int threads, Reference reference) {
        this.goldenSource = golden;
        this.goldenDataSource = goldenData;
        this.inputSource = inputs;
        this.samples = samples;
        this.keepsGoldenData = keepsGoldenData;
        this.threads = threads;
        this.reference = reference;
    }

    /** No fidelity measurement: {@link #measure(Path)} returns an empty map without reading the package. */
    public static FidelityCheck none() {
        return new FidelityCheck((p, in) -> null, (in, keep) -> null, List::of, 0, false, 0, Reference.FP32_GRAPH);
    }

    /** The tokenized samples on their prefix, tokenized on first use (by whichever thread needs them first). */
    private SamplePrefix prefix() {
        synchronized (inputSource) { // not this: golden() holds this while it predicts, and run() must not wait for it
            if (prefix == null) {
                tokenized = inputSource.get();
                prefix = SamplePrefix.of(tokenized.subList(0, samples));
            }
            return prefix;
        }
    }

    /** Runs the unconverted FP32 graph on the first {@code samples} fixed sentences at {@code seqLen}. */
    public static FidelityCheck compute(SourceModel source, int samples, int seqLen) {
        FidelityCheck check = deferred(source, samples, seqLen, 0);
        check.golden();
        return check;
    }

    /**
     * Like {@link #compute}, but the golden outputs come from {@code reference}, another engine ({@code eval
     * --reference onnxruntime}): it gets each sample's full-length inputs (the same tokens, {@code (1, seqLen)}) and
     * returns that sample's outputs at full length, named like the package's; they are cut to the sample prefix and
     * compared on real tokens, as the FP32 graph's are.
     */
    public static FidelityCheck against(SourceModel source, int samples, int seqLen,
                                        java.util.function.Function<Map<String, FloatTensor>, Map<String, FloatTensor>> reference) {
        if (samples < 1 || samples > Samples.fixed().size()) {
            throw new io.aneforge.cli.UsageException("--samples must be in 1.." + Samples.fixed().size()
                    + " (the fixed sample set), got " + samples);
        }
        List<Map<String, FloatTensor>> inputs = Golden.sampleInputs(source.model(), source.tokenizer(), samples, seqLen);
        FidelityCheck check = new FidelityCheck(independently(reference), (in, keep) -> null, () -> inputs, samples, false, 0,
                Reference.ONNXRUNTIME);
        check.golden();
        return check;
    }

    /**
     * Like {@link #compute}, but the golden outputs are computed on first use ({@link #compare},
     * {@link #golden()}), on the thread that uses them: {@code convert} starts its variant conversions
     * first, so the golden pass runs while they build, write and fsync (the same outputs, computed later).
     * {@code samples} is checked and the samples are tokenized now.
     *
     * @param threads kernel threads of every prediction this check runs (0: one per core)
     */
    public static FidelityCheck deferred(SourceModel source, int samples, int seqLen, int threads) {
        return deferred(source, samples, seqLen, threads, false);
    }

    /**
     * Like {@link #deferred(SourceModel, int, int, int)}; with {@code keepGoldenData} the golden pass runs on every
     * fixed sample, on their real tokens, and keeps them as {@link #goldenData()} (what {@code convert} writes for
     * the registry's jobs, the samples and sequence length of the converter worker's golden step), and the
     * fidelity golden outputs are the first {@code samples} of those: one pass for both, the same floats (the real
     * tokens' outputs do not depend on the prefix or the other samples, {@code SamplePrefixTest}).
     */
    public static FidelityCheck deferred(SourceModel source, int samples, int seqLen, int threads, boolean keepGoldenData) {
        List<String> all = Samples.fixed();
        if (samples < 1 || samples > all.size()) {
            throw new io.aneforge.cli.UsageException("--samples must be in 1.." + all.size() + " (the fixed sample set), got "
                    + samples);
        }
        // the first `count` sentences, or as many sentence pairs for a model that takes token_type_ids (Golden.sampleInputs)
        int count = keepGoldenData ? all.size() : samples;
        // Predictions run each sample on a prefix of the sequence that holds its real tokens (SamplePrefix.of):
        // the same floats on real tokens as full length, which is all fidelity compares.
        // Golden.compute runs the FP32 graph on the reference runtime (ProgramEvaluator.runtime()), as the
        // converter worker does, so the CLI and the worker report the same numbers.
        // Tokenized on first use: convert starts its conversions first, then the golden pass tokenizes while they run.
        // The stored golden data comes from Golden.forStorage, the function the converter worker's golden step
        // calls, so both write the same bytes (real tokens only, 0 at padding, vocabulary-sized logits at held positions).
        return new FidelityCheck((prefix, in) -> Golden.compute(source.model(), prefix, ProgramEvaluator.runtime(threads)),
                (in, keep) -> Golden.forStorage(source.model(), in, ProgramEvaluator.runtime(threads), keep),
                () -> Golden.sampleInputs(source.model(), source.tokenizer(), count, seqLen), samples, keepGoldenData,
                threads, Reference.FP32_GRAPH);
    }

    /**
     * Like {@link #deferred(SourceModel, int, int, int, boolean)}, but fidelity compares with {@code reference},
     * another engine ({@code convert --reference onnxruntime}), run on the first {@code samples} samples' full-length
     * inputs as in {@link #against}; the golden data ({@code keepGoldenData}) stays the FP32 graph's, so the
     * registry's accuracy jobs compare every version of a model with the same kind of golden outputs (the
     * converter worker's), whichever reference {@code convert} measured with.
     */
    public static FidelityCheck deferred(SourceModel source, int samples, int seqLen, int threads, boolean keepGoldenData,
                                         java.util.function.Function<Map<String, FloatTensor>, Map<String, FloatTensor>> reference) {
        FidelityCheck own = deferred(source, samples, seqLen, threads, keepGoldenData);
        return new FidelityCheck(independently(reference), own.goldenDataSource, own.inputSource, samples, keepGoldenData,
                threads, Reference.ONNXRUNTIME);
    }

    /** Golden outputs that {@code reference} computes sample by sample at full length, cut to the sample prefix. */
    private static java.util.function.BiFunction<SamplePrefix, List<Map<String, FloatTensor>>, GoldenOutputs> independently(
            java.util.function.Function<Map<String, FloatTensor>, Map<String, FloatTensor>> reference) {
        return (prefix, inputs) -> Golden.samples(prefix.cut(inputs.stream().map(reference).toList()));
    }

    /** What the golden outputs fidelity compares with come from ({@code fp32-graph} also for {@link #none()}). */
    public Reference reference() {
        return reference;
    }

    /**
     * The most positions a prediction computes: the longest of the samples' prefixes, each holding its sample's real
     * tokens ({@code SamplePrefix}; 0 for {@link #none()}).
     */
    public int positions() {
        return measures() ? prefix().longest() : 0;
    }

    public int samples() {
        return samples;
    }

    /** False for {@link #none()}. */
    public boolean measures() {
        return samples > 0;
    }

    /** The golden outputs (computed now if they were deferred); null for {@link #none()}. */
    public synchronized GoldenOutputs golden() {
        if (golden == null && measures()) {
            SamplePrefix mine = prefix();
            if (!keepsGoldenData) {
                golden = goldenSource.apply(mine, tokenized.subList(0, samples));
            } else {
                boolean fp32 = reference == Reference.FP32_GRAPH;
                // stored as the worker stores it (vocabulary-sized logits at held positions); fidelity compares the
                // first samples' outputs on every real token, kept by the same pass
                Golden.Pass pass = goldenDataSource.apply(tokenized, fp32 ? samples : 0);
                goldenData = new GoldenData(Golden.samples(tokenized), pass.stored());
                golden = fp32 ? mine.cut(new GoldenOutputs(pass.kept())) // read as held: neither holds the padding
                        : goldenSource.apply(mine, tokenized.subList(0, samples));
            }
        }
        return golden;
    }

    /**
     * The golden data on every fixed sample (computing the golden outputs now if they were deferred); null unless
     * made with {@code keepGoldenData}.
     */
    public synchronized GoldenData goldenData() {
        golden();
        return goldenData;
    }

    /** Per output, the package's outputs against the golden outputs; empty for {@link #none()}. */
    public Map<String, FidelityReport> measure(Path mlpackage) {
        if (!measures()) {
            return Map.of();
        }
        return compare(run(mlpackage));
    }

    /** Per output, the package's outputs against the golden outputs; the runner's package is run on the sample prefix. */
    public Map<String, FidelityReport> measure(PackageRunner runner) {
        if (!measures()) {
            return Map.of();
        }
        return compare(prefix().runRealTokens(runner.program(), ProgramEvaluator.runtime(threads)));
    }

    /**
     * The package's outputs on the sample inputs, in sample order, as read back from disk (per-token outputs on
     * the samples' real tokens only: padded positions are not computed, {@link SamplePrefix#runRealTokens}; needs no golden
     * outputs; safe to call from several threads, each reads and loads its own copy); empty for {@link #none()}.
     */
    public List<Map<String, FloatTensor>> run(Path mlpackage) {
        if (!measures()) {
            return List.of();
        }
        try (PackageRunner runner = PackageRunner.open(mlpackage, threads)) {
            return prefix().runRealTokens(runner.program(), ProgramEvaluator.runtime(threads));
        }
    }

    /** {@link #run} outputs against the golden outputs, on real tokens; empty for {@link #none()}. */
    public Map<String, FidelityReport> compare(List<Map<String, FloatTensor>> outputs) {
        if (!measures()) {
            return Map.of();
        }
        return VariantFidelity.realTokens(golden(), outputs, prefix().inputs());
    }

    /**
     * A {@code --min-cosine} gate as given ({@code convert}, {@code eval}): a cosine similarity, in [-1, 1]; null
     * (no gate) passes.
     */
    public static void checkMinCosine(Double minCosine) {
        if (minCosine != null && !(minCosine >= -1 && minCosine <= 1)) {
            throw new io.aneforge.cli.UsageException("--min-cosine must be in [-1, 1] (a cosine similarity), got "
                    + minCosine);
        }
    }

    /** The lowest per-position cosine over all outputs (NaN when nothing was measured): the number the gates and summaries use. */
    public static double worstCosine(Map<String, FidelityReport> fidelity) {
        return fidelity.values().stream().mapToDouble(FidelityReport::cosineMin).min().orElse(Double.NaN);
    }
}

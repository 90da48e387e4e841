package io.aneforge.cli.convert;

import io.aneforge.cli.run.PackageRunner;
import io.aneforge.convert.Golden;
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
 */
public final class FidelityCheck {

    public static final int MAX_SAMPLES = 32;

    private final Supplier<GoldenOutputs> goldenSource;
    private final Supplier<List<Map<String, FloatTensor>>> inputsSource;
    private final int samples;
    private GoldenOutputs golden;
    private List<Map<String, FloatTensor>> inputs;

    private FidelityCheck(Supplier<GoldenOutputs> golden, Supplier<List<Map<String, FloatTensor>>> inputs, int samples) {
        this.goldenSource = golden;
        this.inputsSource = inputs;
        this.samples = samples;
    }

    /** No fidelity measurement: {@link #measure(Path)} returns an empty map without reading the package. */
    public static FidelityCheck none() {
        return new FidelityCheck(() -> null, List::of, 0);
    }

    /** Runs the unconverted FP32 graph on the first {@code samples} fixed sentences at {@code seqLen}. */
    public static FidelityCheck compute(SourceModel source, int samples, int seqLen) {
        FidelityCheck check = deferred(source, samples, seqLen);
        check.golden();
        return check;
    }

    /**
     * Like {@link #compute}, but the golden outputs are computed on first use ({@link #measure},
     * {@link #golden()}), on the thread that uses them: {@code convert} starts its variant conversions
     * first, so the golden pass runs while they build, write and fsync (the same outputs, computed later).
     * {@code samples} is checked now.
     */
    public static FidelityCheck deferred(SourceModel source, int samples, int seqLen) {
        List<String> all = Samples.fixed();
        if (samples < 1 || samples > all.size()) {
            throw new io.aneforge.cli.UsageException("--samples must be in 1.." + all.size() + " (the fixed sample set), got "
                    + samples);
        }
        List<String> texts = all.subList(0, samples);
        // Golden.compute runs the FP32 graph on the reference runtime (ProgramEvaluator.runtime()), as the
        // converter worker does, so the CLI and the worker report the same numbers.
        return new FidelityCheck(() -> Golden.compute(source.model(), source.tokenizer(), texts, seqLen),
                () -> Golden.inputs(source.tokenizer(), texts, seqLen), samples);
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
            golden = goldenSource.get();
            inputs = inputsSource.get();
        }
        return golden;
    }

    /** Per output, the package's outputs against the golden outputs; empty for {@link #none()}. */
    public Map<String, FidelityReport> measure(Path mlpackage) {
        if (!measures()) {
            return Map.of();
        }
        try (PackageRunner runner = PackageRunner.open(mlpackage)) {
            return measure(runner);
        }
    }

    public Map<String, FidelityReport> measure(PackageRunner runner) {
        if (!measures()) {
            return Map.of();
        }
        GoldenOutputs g = golden();
        return VariantFidelity.measure(g, runner.program(), inputs, runner.asEvaluator());
    }

    /** The lowest per-position cosine over all outputs (NaN when nothing was measured): the number the gates and summaries use. */
    public static double worstCosine(Map<String, FidelityReport> fidelity) {
        return fidelity.values().stream().mapToDouble(FidelityReport::cosineMin).min().orElse(Double.NaN);
    }
}

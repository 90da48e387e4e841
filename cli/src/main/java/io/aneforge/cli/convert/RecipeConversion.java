package io.aneforge.cli.convert;

import io.aneforge.cli.CommandFailure;
import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.progress.Progress;
import io.aneforge.cli.reference.Reference;
import io.aneforge.convert.Calibration;
import io.aneforge.convert.ConvertedVariant;
import io.aneforge.convert.MaskedSamples;
import io.aneforge.convert.VariantConverter;
import io.aneforge.eval.FidelityReport;
import io.aneforge.graph.WeightCache;
import io.aneforge.io.IoProblems;
import io.aneforge.kernels.Parallel;
import io.aneforge.model.ArchitectureConfig;
import io.aneforge.quant.QuantReport;
import io.aneforge.recipe.Recipe;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.variant.VariantSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Converts every variant a recipe chooses into one output directory and writes {@code variants.json}: one package
 * per build, shared by the variants that differ only in their chip.
 */
public final class RecipeConversion {

    public static final String TOKENIZER = "tokenizer.json";

    private RecipeConversion() {
    }

    /**
     * Output files of one variant, relative to the output directory: named by its build
     * ({@code ios18-ane-int8-block32-s128.mlpackage}), since the variants of one build for several chips share them.
     */
    public static String packageName(VariantSpec spec) {
        return spec.buildId() + ".mlpackage";
    }

    public static String archiveName(VariantSpec spec) {
        return spec.buildId() + ".mlpackage.zip";
    }

    /**
     * The specs by build id, in the order their builds first appear: the variants of one build differ only in the
     * chip, which is not in the package (VariantSpec.buildId), so one package serves them all.
     */
    public static Map<String, List<VariantSpec>> builds(List<VariantSpec> specs) {
        Map<String, List<VariantSpec>> builds = new LinkedHashMap<>();
        for (VariantSpec s : specs) {
            builds.computeIfAbsent(s.buildId(), k -> new ArrayList<>()).add(s);
        }
        return builds;
    }

    /** The progress note when a -gptq variant makes the run measure calibration statistics on {@code texts}. */
    public static String calibratingNote(int texts) {
        return "measuring GPTQ calibration statistics on " + texts + " calibration texts";
    }

    /** At most this many variants are built at once: each holds its encoded weights until written. */
    static final int MAX_PARALLEL_VARIANTS = 4;

    /**
     * Converts {@code specs}, each build once ({@link #builds}): its package is written, archived and fidelity-checked
     * once, and {@code variants.json} lists one entry per spec, the entries of one build naming the same files and
     * sha256. {@code calibrationTexts} are what -gptq variants calibrate on (null: the built-in {@link Calibration#texts(io.aneforge.model.ImportedModel)}).
     */
    public static VariantsManifest run(SourceModel source, Recipe recipe, List<VariantSpec> specs, FidelityCheck check,
                                       Path outDir, Progress progress, List<String> calibrationTexts) {
        Map<String, List<VariantSpec>> builds = builds(specs);
        Map<VariantSpec, VariantEntry> entries = new HashMap<>();
        progress.begin("converting " + builds.size() + (builds.size() == 1 ? " package" : " packages"), builds.size());
        // Building, writing and zipping a package is mostly single-threaded, and builds are independent
        // (each writes its own files, the output bytes do not depend on the order), so they run side by side:
        // one task more than there are kernel threads, since each spends part of its time waiting on fsync
        // and in single-threaded stretches, where with one task per core a core sat idle (2 vs 3 tasks on two
        // cores, alternating in one JVM: -12 % wall per default convert, -6 % with --samples 0, the same CPU).
        // Each task then reads its package back and runs it on the samples (FidelityCheck.run), while this
        // thread computes the golden outputs and then compares, in recipe order. Everything shares the kernel
        // pool, whose size the predictions leave as it is (ConvertCommand).
        int workers = Math.max(1, Math.min(Math.min(builds.size(), Parallel.threads() + 1), MAX_PARALLEL_VARIANTS));
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "aneforge-convert");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Built>> converted = new ArrayList<>();
            // Builds share weight encodings (ane and standard fp16 store the same bytes): each distinct
            // encoding is computed once. -gptq builds take GPTQ's statistics of the calibration texts, measured
            // once when the first needs them.
            int seqLen = specs.get(0).seqLen();
            AtomicReference<Calibration> measured = new AtomicReference<>();
            WeightCache weights = WeightCache.create(() -> {
                List<String> texts = calibrationTexts == null ? Calibration.texts(source.model()) : calibrationTexts;
                progress.note(calibratingNote(texts.size()));
                Calibration c = Calibration.measure(source.model(), source.tokenizer(), texts, seqLen);
                measured.set(c);
                return c;
            });
            for (List<VariantSpec> build : builds.values()) {
                VariantSpec first = build.get(0);
                converted.add(pool.submit(() -> {
                    ConvertedVariant cv = VariantConverter.convert(source.model(), first,
                            outDir.resolve(packageName(first)), outDir.resolve(archiveName(first)), weights);
                    return new Built(cv, check.measures() ? check.run(cv.packageDir()) : List.of());
                }));
            }
            // The golden FP32 pass (deferred, see FidelityCheck.deferred) runs here, while the builds are being
            // built, written and run: their fsyncs and single-threaded stretches leave the cores room for it.
            check.golden();
            int i = 0;
            for (List<VariantSpec> build : builds.values()) {
                Built b = result(converted.get(i++));
                Map<String, FidelityReport> fidelity = check.compare(b.outputs());
                VariantEntry last = null;
                for (VariantSpec spec : build) {
                    last = entry(spec, b.variant(), recipe.computeUnitsFor(spec), fidelity,
                            spec.precision().calibrated() ? calibration(measured.get(), calibrationTexts == null) : null);
                    entries.put(spec, last);
                }
                progress.step(build.get(0).buildId(), summary(last, check.reference()) + "  for " + String.join(", ",
                        build.stream().map(VariantSpec::chip).toList()));
            }
        } finally {
            // On a failure, builds not started are dropped and running ones finish their files before
            // the error is reported (no writer is left running behind the caller).
            pool.shutdownNow();
            awaitTermination(pool);
        }
        progress.end();
        // The tokenizer that ships beside the packages loaded when the source opened (SourceModel.open refuses
        // a tokenizer.json that does not load or does not fit the model), also with --samples 0.
        try {
            Files.copy(source.snapshot().tokenizerJson(), outDir.resolve(TOKENIZER), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new CommandFailure("cannot copy tokenizer.json into " + outDir + ": " + IoProblems.describe(e), e);
        }
        // The golden data for the registry's jobs (publish --dir uploads it), computed by the golden pass above.
        GoldenData goldenData = check.goldenData();
        VariantsManifest.Golden golden = goldenData == null ? null : goldenData.write(outDir);
        if (goldenData != null && source.model().head() != null
                && source.model().head().kind().predictsTokens()) {
            progress.note(goldenData.fillMaskNote(source.model().head().kind().id(),
                    outDir.resolve(GoldenData.OUTPUTS_FILE).toFile().length(), source.model().config().vocabSize(),
                    MaskedSamples.maskToken(source.model(), source.tokenizer())));
        }
        ArchitectureConfig c = source.model().config();
        VariantsManifest manifest = new VariantsManifest(VariantsManifest.FORMAT_VERSION,
                new VariantsManifest.Model(source.source(), source.model().commit(), c.modelType(), c.hiddenSize(),
                        c.numLayers(), c.numHeads(), c.maxPositions(), VariantsManifest.Task.of(source.model().head())),
                new VariantsManifest.RecipeRef(recipe.name(), recipe.source(), recipe.computeUnits()),
                specs.get(0).seqLen(), check.samples(), manifestReference(check.reference()), TOKENIZER, specs.stream().map(entries::get).toList(), golden);
        manifest.write(outDir.resolve(VariantsManifest.FILE_NAME));
        return manifest;
    }

    /** One build's package and its outputs on the samples (empty when fidelity is not measured). */
    private record Built(ConvertedVariant variant, List<Map<String, FloatTensor>> outputs) {
    }

    /** The task's value, or the exception it threw (as thrown, so messages and exit codes stay the same). */
    private static <T> T result(Future<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new CommandFailure("conversion failed: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure("interrupted while converting", e);
        }
    }

    private static void awaitTermination(ExecutorService pool) {
        boolean interrupted = false;
        while (true) {
            try {
                if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    public static VariantEntry entry(ConvertedVariant cv, List<String> computeUnits, Map<String, FidelityReport> fidelity) {
        return entry(cv.spec(), cv, computeUnits, fidelity, null);
    }

    /**
     * The entry of variant {@code s}, served by {@code cv}'s package (built for {@code s} or for another chip of the
     * same build), with the calibration a {@code -gptq} variant was quantized from (null for the others).
     */
    static VariantEntry entry(VariantSpec s, ConvertedVariant cv, List<String> computeUnits,
                              Map<String, FidelityReport> fidelity, VariantEntry.Calibration calibration) {
        if (!s.buildId().equals(cv.spec().buildId())) {
            throw new IllegalStateException("variant " + s.id() + " is not of build " + cv.spec().buildId());
        }
        VariantEntry.Quantization q = quantization(cv.reports());
        return new VariantEntry(s.id(), s.chip(), s.target().name().toLowerCase(Locale.ROOT), s.layout().id(),
                s.precision().id(), s.precision().blockSize(), s.seqLen(), s.attentionChunk(), packageName(s),
                archiveName(s), cv.archiveSha256(), cv.archiveSize(), cv.parameterCount(), cv.peakIntermediateBytes(),
                q == null || calibration == null ? q : q.withCalibration(calibration), computeUnits, fidelity);
    }

    /** The manifest's record of measured statistics; null when none were measured (no GPTQ weight asked for them). */
    static VariantEntry.Calibration calibration(Calibration c, boolean builtInTexts) {
        return c == null ? null
                : new VariantEntry.Calibration(builtInTexts ? "built-in" : "--calibration", c.samples(), c.tokens(),
                        c.fingerprint());
    }

    static VariantEntry.Quantization quantization(List<QuantReport> reports) {
        if (reports.isEmpty()) {
            return null;
        }
        long before = 0;
        long after = 0;
        double minSqnr = Double.MAX_VALUE;
        for (QuantReport r : reports) {
            before += r.bytesBefore();
            after += r.bytesAfter();
            minSqnr = Math.min(minSqnr, r.sqnrDb());
        }
        return new VariantEntry.Quantization(reports.size(), before, after, minSqnr);
    }

    /** {@code sha256 1f2e3d4c…  84.1 KiB  min cosine 0.999987} ({@code fidelity not measured} with {@code --samples 0}). */
    public static String summary(VariantEntry e) {
        return summary(e, Reference.FP32_GRAPH);
    }

    /**
     * Like {@link #summary(VariantEntry)}, naming another reference than the FP32 graph after the cosine
     * ({@code min cosine 0.999849 vs onnxruntime}); the default's line stays as it was.
     */
    public static String summary(VariantEntry e, Reference reference) {
        return "sha256 " + e.sha256().substring(0, 12) + "…  " + humanBytes(e.size()) + "  " + (e.fidelity().isEmpty()
                ? "fidelity not measured"
                : "min cosine " + String.format(Locale.ROOT, "%.6f", FidelityCheck.worstCosine(e.fidelity()))
                + (reference == Reference.FP32_GRAPH ? "" : " vs " + reference.id()));
    }

    /** variants.json's {@code reference}: left out for the FP32 graph (the bytes of every convert before it). */
    static String manifestReference(Reference reference) {
        return reference == Reference.FP32_GRAPH ? null : reference.id();
    }

    public static String humanBytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int i = -1;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
    }
}

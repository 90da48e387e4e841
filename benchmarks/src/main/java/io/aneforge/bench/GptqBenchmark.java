package io.aneforge.bench;

import io.aneforge.convert.Calibration;
import io.aneforge.convert.VariantConverter;
import io.aneforge.graph.WeightCache;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What GPTQ costs on all-MiniLM-L6-v2 at seq 128, side by side in one run: measuring the calibration
 * statistics (the FP32 graph on the 64 calibration texts, the Gram sums), building an
 * {@code int4-block32-affine-gptq} variant's program from them, and building the same variant with
 * coremltools' range fit ({@code int4-block32-affine}, the baseline: same storage, no statistics).
 * Builds only (no package written): the writing is the same for both. Kernel threads: the machine's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms6g", "-Xmx6g", "-Xss16m", VectorSwitch.ADD_MODULES})
public class GptqBenchmark {
    static final int SEQ = 128;

    private Path dir;
    private ImportedModel model;
    private Tokenizer tokenizer;
    private Calibration calibration;
    private final VariantSpec gptq = VariantSpec.of("M4", Target.IOS18, Layout.ANE, Precision.parse("int4-block32-affine-gptq"), SEQ);
    private final VariantSpec range = VariantSpec.of("M4", Target.IOS18, Layout.ANE, Precision.parse("int4-block32-affine"), SEQ);

    @Setup
    public void setUp() throws Exception {
        VectorSwitch.apply(true);
        dir = Files.createTempDirectory("aneforge-gptq-bench");
        Path snapshot = MiniLmSnapshot.write(dir.resolve("minilm"));
        model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
        tokenizer = Tokenizer.load(snapshot.resolve("tokenizer.json"));
        calibration = Calibration.measure(model, tokenizer, SEQ);
    }

    @TearDown
    public void tearDown() throws Exception {
        tokenizer.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public Calibration calibrate(CpuCounters cpu) {
        cpu.begin();
        Calibration c = Calibration.measure(model, tokenizer, SEQ);
        cpu.end();
        return c;
    }

    @Benchmark
    public Program buildGptq(CpuCounters cpu) {
        cpu.begin();
        Program p = VariantConverter.build(model, gptq, WeightCache.uncached(calibration)).program();
        cpu.end();
        return p;
    }

    /** Baseline: the same variant with the range fit. */
    @Benchmark
    public Program buildRangeFit(CpuCounters cpu) {
        cpu.begin();
        Program p = VariantConverter.build(model, range).program();
        cpu.end();
        return p;
    }
}

package io.aneforge.bench;

import io.aneforge.convert.Golden;
import io.aneforge.convert.SamplePrefix;
import io.aneforge.convert.Samples;
import io.aneforge.convert.VariantConverter;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.runtime.reference.ReferenceRuntime;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fidelity step of a default {@code convert}: the 8 default samples through one variant's
 * package as read back from disk, cut to one sequence prefix for all of them (the longest sample's, 32 of 128
 * positions: one loaded model, where a convert runs each sample on its own prefix, 16 or 32), on the
 * reference runtime with FP16 activations. {@code oneByOne} calls {@code predict} per sample;
 * {@code opMajor} calls {@code predictAll}, which runs each op for all 8 samples before the next
 * op (the same floats, tested in {@code PredictAllTest}). Both in one run, so their ratio holds on a
 * noisy machine; {@code :cpuMsPerOp} is the steadier figure there ({@link CpuCounters}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Xss16m", VectorSwitch.ADD_MODULES})
public class FidelityPredictionBenchmark {

    @Param({"ane:fp16", "ane:int8-block32", "standard:fp16"})
    public String variant;

    /** Kernel threads; 0 = one per core, as in a convert. */
    @Param({"0"})
    public int threads;

    private Path work;
    private ReferenceModel model;
    private List<Map<String, FloatTensor>> inputs;

    @Setup
    public void setUp() throws IOException {
        work = Files.createTempDirectory("fidelity-bench");
        Path snap = MiniLmSnapshot.write(work.resolve("minilm"));
        ImportedModel imported = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> full;
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            full = Golden.inputs(tok, Samples.fixed().subList(0, 8), 128);
        }
        SamplePrefix prefix = SamplePrefix.common(full);
        String[] v = variant.split(":");
        VariantSpec spec = VariantSpec.of("A17_PRO", Target.IOS18, Layout.valueOf(v[0].toUpperCase()), Precision.parse(v[1]), 128);
        Path dir = VariantConverter.convert(imported, spec, work.resolve("v.mlpackage")).packageDir();
        Program program = SamplePrefix.program(MlPackage.read(dir), prefix.longest());
        model = ReferenceRuntime.load(program, new RuntimeOptions("cpuOnly", true, threads), true);
        inputs = new ArrayList<>(prefix.inputs());
    }

    @TearDown
    public void tearDown() throws IOException {
        model.close();
        try (Stream<Path> walk = Files.walk(work)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public List<Map<String, FloatTensor>> oneByOne(CpuCounters cpu) {
        cpu.op();
        List<Map<String, FloatTensor>> out = new ArrayList<>();
        for (Map<String, FloatTensor> in : inputs) {
            out.add(model.predict(in));
        }
        return out;
    }

    @Benchmark
    public List<Map<String, FloatTensor>> opMajor(CpuCounters cpu) {
        cpu.op();
        return model.predictAll(inputs);
    }
}

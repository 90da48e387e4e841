package io.aneforge.bench;

import io.aneforge.kernels.Parallel;
import io.aneforge.quant.Fp16Weight;
import io.aneforge.quant.QuantMode;
import io.aneforge.quant.QuantReport;
import io.aneforge.quant.QuantSpec;
import io.aneforge.quant.QuantType;
import io.aneforge.quant.QuantizedWeight;
import io.aneforge.quant.WeightQuantizer;
import io.aneforge.tensor.FloatTensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Block-wise INT8 quantization of a MiniLM FFN weight (1536×384) and a BERT word-embedding
 * table (30522×384) next to the cheapest thing one can do with the same floats: copy them
 * (System.arraycopy and a plain loop). Target: quantize ≥ 0.5× the copy's throughput.
 * The copies are single-threaded whatever {@code threads} says; the quantizer splits its
 * groups over {@code threads} (io.aneforge.kernels.Parallel). Secondary result {@code cpuMsPerOp}:
 * process CPU time per op ({@link CpuCounters}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = VectorSwitch.ADD_MODULES)
public class QuantizerBenchmark {

    /** Vector API kernels on or off (see {@link VectorSwitch}); the copies are the same code in both forks. */
    @Param({"true", "false"})
    public boolean vector;

    @Param({"1536x384", "30522x384"})
    public String shape;

    /** "1": one thread; "default": {@code aneforge.threads} or the processor count, as in production. */
    @Param({"1", "default"})
    public String threads;

    private FloatTensor weight;
    private float[] copy;
    /** Encoded once in the setup, for the report benchmarks. */
    private QuantizedWeight symmetricWeight;
    private Fp16Weight fp16Weight;
    private final QuantSpec symmetric = QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32);
    private final QuantSpec affine = QuantSpec.perBlock(QuantType.INT8, QuantMode.AFFINE, 32);

    @Setup
    public void setUp() {
        VectorSwitch.apply(vector);
        String[] dims = shape.split("x");
        weight = FloatTensor.zeros(Integer.parseInt(dims[0]), Integer.parseInt(dims[1]));
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < weight.size(); i++) {
            weight.data()[i] = (float) (r.nextGaussian() * 0.05);
        }
        copy = new float[weight.size()];
        symmetricWeight = WeightQuantizer.quantize("w", weight, symmetric);
        fp16Weight = WeightQuantizer.toFp16("w", weight);
        Parallel.setThreads("default".equals(threads)
                ? Math.max(1, Integer.getInteger("aneforge.threads", Runtime.getRuntime().availableProcessors()))
                : Integer.parseInt(threads));
    }

    @Benchmark
    public QuantizedWeight quantizeInt8Block32Symmetric(CpuCounters cpu) {
        cpu.op();
        return WeightQuantizer.quantize("w", weight, symmetric);
    }

    @Benchmark
    public QuantizedWeight quantizeInt8Block32Affine(CpuCounters cpu) {
        cpu.op();
        return WeightQuantizer.quantize("w", weight, affine);
    }

    /**
     * The per-tensor report a conversion writes (max abs error, SQNR) of the int8 block-32 encoding:
     * part of every {@code encode}, measured on its own (not part of the 0.5× target, which is the quantizer's).
     */
    @Benchmark
    public QuantReport reportInt8Block32Symmetric(CpuCounters cpu) {
        cpu.op();
        return QuantReport.measure(weight.data(), symmetricWeight, "");
    }

    /** The report of the FP16 encoding (the default recipe's fp16 variants measure every weight this way). */
    @Benchmark
    public QuantReport reportFp16(CpuCounters cpu) {
        cpu.op();
        return QuantReport.measure(weight.data(), fp16Weight, "");
    }

    /** Baseline: copy the same floats into a preallocated array (allocation-free, so a strict baseline). */
    @Benchmark
    public float[] baselineArraycopy(CpuCounters cpu) {
        cpu.op();
        System.arraycopy(weight.data(), 0, copy, 0, copy.length);
        return copy;
    }

    /** Baseline: a fresh array per call, like the quantizer allocates its output. */
    @Benchmark
    public float[] baselineCloneLoop(CpuCounters cpu) {
        cpu.op();
        float[] src = weight.data();
        float[] dst = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            dst[i] = src[i];
        }
        return dst;
    }
}

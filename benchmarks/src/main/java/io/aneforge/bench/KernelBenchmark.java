package io.aneforge.bench;

import io.aneforge.kernels.Activations;
import io.aneforge.kernels.Gemm;
import io.aneforge.kernels.Kernels;
import io.aneforge.kernels.MatMul;
import io.aneforge.kernels.Normalization;
import io.aneforge.kernels.Parallel;
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
 * The MiniLM FFN-sized matmul (128×384 · 384×1536 = 151 MFLOP) with the scalar reference
 * and the fast kernel side by side; GFLOP/s = ops/s × 0.151. Also the same product as
 * {@code linear} (W stored [out, in]) and the per-layer normalization/activation kernels; and
 * the load-time packing of that [out, in] weight ({@code packLinearWeight}, one thread).
 * Secondary result {@code cpuMsPerOp}: process CPU time per op ({@link CpuCounters}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = VectorSwitch.ADD_MODULES)
public class KernelBenchmark {

    @Param({"1", "2"})
    public int threads;

    /** Vector API kernels on or off (see {@link VectorSwitch}). */
    @Param({"true", "false"})
    public boolean vector;

    private FloatTensor x;      // [128, 384]
    private FloatTensor w;      // [384, 1536]
    private FloatTensor wOutIn; // [1536, 384]
    private FloatTensor bias;   // [1536]
    private FloatTensor hidden; // [1, 384, 1, 128] ANE layout
    private FloatTensor gamma;
    private FloatTensor beta;
    private FloatTensor ffn;    // [128, 1536]

    private static FloatTensor rand(SplittableRandom r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) r.nextGaussian();
        }
        return t;
    }

    @Setup
    public void setUp() {
        VectorSwitch.apply(vector);
        SplittableRandom r = new SplittableRandom(1);
        x = rand(r, 128, 384);
        w = rand(r, 384, 1536);
        wOutIn = rand(r, 1536, 384);
        bias = rand(r, 1536);
        hidden = rand(r, 1, 384, 1, 128);
        gamma = rand(r, 384);
        beta = rand(r, 384);
        ffn = rand(r, 128, 1536);
        Parallel.setThreads(threads);
        Kernels.setFast(true);
    }

    @Benchmark
    public FloatTensor matmulScalar(CpuCounters cpu) {
        cpu.op();
        return MatMul.matmul(x, w, false, false, false);
    }

    @Benchmark
    public FloatTensor matmulFast(CpuCounters cpu) {
        cpu.op();
        return MatMul.matmul(x, w, false, false, true);
    }

    @Benchmark
    public FloatTensor linearFast(CpuCounters cpu) {
        cpu.op();
        return MatMul.linear(x, wOutIn, bias, true);
    }

    @Benchmark
    public Gemm.Packed packLinearWeight(CpuCounters cpu) {
        cpu.op();
        return Gemm.pack(384, 1536, wOutIn.data(), 0, 384, true);
    }

    @Benchmark
    public FloatTensor layerNormAxis1Scalar(CpuCounters cpu) {
        cpu.op();
        return Normalization.layerNorm(hidden, new int[] {1}, gamma, beta, 1e-5f, false);
    }

    @Benchmark
    public FloatTensor layerNormAxis1Fast(CpuCounters cpu) {
        cpu.op();
        return Normalization.layerNorm(hidden, new int[] {1}, gamma, beta, 1e-5f, true);
    }

    @Benchmark
    public FloatTensor softmaxLastAxisFast(CpuCounters cpu) {
        cpu.op();
        return Normalization.softmax(ffn, -1, true);
    }

    @Benchmark
    public FloatTensor geluExact(CpuCounters cpu) {
        cpu.op();
        return Activations.geluExact(ffn);
    }
}

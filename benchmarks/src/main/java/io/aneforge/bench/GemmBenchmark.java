package io.aneforge.bench;

import io.aneforge.kernels.Gemm;
import io.aneforge.kernels.Parallel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The GEMM alone on the shapes the converter's fidelity check runs: M = 32 (the sequence prefix)
 * and 128 rows, K = 384, N = 384 (attention projections) or 1536 (FFN), B packed once as a
 * constant weight is ({@code [out, in]}, transB), no bias; GFLOP/s = ops/s × 2·M·N·K / 1e9.
 * {@code packLinearWeight} times that packing for the 1536×384 weight (every linear/conv weight is
 * packed when a program is loaded). Secondary result {@code cpuMsPerOp} ({@link CpuCounters}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = VectorSwitch.ADD_MODULES)
public class GemmBenchmark {

    @Param({"32", "128"})
    public int m;

    @Param({"384", "1536"})
    public int n;

    @Param({"384"})
    public int k;

    @Param({"1"})
    public int threads;

    /** Vector API kernels on or off (see {@link VectorSwitch}). */
    @Param({"true"})
    public boolean vector;

    private float[] a;
    private float[] w;      // [n, k]
    private float[] c;
    private Gemm.Packed packed;

    @Setup
    public void setUp() {
        VectorSwitch.apply(vector);
        SplittableRandom r = new SplittableRandom(1);
        a = new float[m * k];
        w = new float[n * k];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        c = new float[m * n];
        packed = Gemm.pack(k, n, w, 0, k, true);
        Parallel.setThreads(threads);
    }

    @Benchmark
    public float[] gemm(CpuCounters cpu) {
        cpu.op();
        Gemm.fast(m, a, 0, k, false, packed, null, c, 0, n, threads > 1);
        return c;
    }
}

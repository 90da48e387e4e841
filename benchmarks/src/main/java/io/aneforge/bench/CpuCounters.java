package io.aneforge.bench;

import java.lang.management.ManagementFactory;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.infra.ThreadParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Process CPU time per benchmark operation, as JMH secondary results ({@code <benchmark>:cpuMsPerOp},
 * {@code :cpuMs}, {@code :ops} in the result table). On a machine shared with other work, wall time
 * per op grows with the load while CPU time per op barely moves, so it is the steadier figure for
 * comparing two kernels. It is the CPU time of the whole benchmark JVM (user + system, every
 * thread: kernel pool, converter threads, GC, JIT), so with a thread pool it can exceed wall time.
 * The JVM reads it in 10 ms steps here (clock ticks; every value this machine reported was a multiple
 * of 10 ms), so an iteration should hold well over 10 ms of work.
 *
 * <p>Use: take it as a {@code @Benchmark} method argument and either call {@link #op()} once per
 * invocation (the CPU window is then the whole measurement iteration, as JMH's own timer sees it), or
 * bracket the operation with {@link #begin()} / {@link #end()} (only the bracketed CPU counts, one op
 * per bracket: for benchmarks whose per-invocation fixtures, e.g. deleting an output tree, must not
 * be charged to the operation).
 *
 * <p>Why {@link AuxCounters.Type#EVENTS} and why the per-op figure is computed this way (JMH 1.37,
 * read from its generator, {@code StateObjectHandler}):
 * <ul>
 *   <li>{@code OPERATIONS} counters are taken as an operation count and divided by the iteration's wall
 *       time ({@code ThroughputResult}/{@code AverageTimeResult}); CPU nanoseconds through that would
 *       come out as CPU utilisation, not CPU per op, and in {@code SingleShotTime} and
 *       {@code SampleTime} modes (ConvertBenchmark) JMH drops {@code OPERATIONS} counters altogether.</li>
 *   <li>{@code EVENTS} counters are reported as they are ({@code ScalarResult}, unit {@code #}) and
 *       aggregated with {@code SUM}: over threads, over the measurement iterations and over forks. JMH
 *       zeroes public fields before each iteration (not methods).</li>
 * </ul>
 * So {@link #cpuMs} and {@link #ops} are per-iteration values (each iteration line shows its own) and
 * the table shows their totals; {@code cpuMs / ops} of the table is the CPU time per op over the whole
 * measurement. {@link #cpuMsPerOp()} gives that ratio directly: a per-iteration ratio would be summed
 * over iterations (5 iterations of 20 ms/op would read 100), so it reports 0 in every measurement
 * iteration but the last, and in the last the fork's total measured CPU over its total measured ops,
 * divided by the fork count (forks' values are summed too). Warmup iterations (discarded by JMH) show
 * their own ratio. One benchmark thread only: process CPU time cannot be split between threads, and
 * several threads' sums would add up the same process time twice (checked at setup).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class CpuCounters {

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** CPU milliseconds in this iteration (JMH zeroes it before each iteration; the table shows the total). */
    public double cpuMs;
    /** Operations counted in this iteration (zeroed by JMH likewise). */
    public long ops;

    private int forks = 1;
    private boolean measuring;
    private int measurementIterations;
    private int measurementIterationsDone;
    private long iterationStart;
    private long bracketStart;
    private long bracketedNanos;
    private boolean bracketed;
    private long iterationOps;
    private double iterationCpuMs;
    private double measuredCpuMs;
    private long measuredOps;

    @Setup(Level.Trial)
    public void checkSingleThread(BenchmarkParams benchmark, ThreadParams thread) {
        if (thread.getThreadCount() != 1) {
            throw new IllegalStateException("CpuCounters measures process CPU time and needs one benchmark thread, got "
                    + thread.getThreadCount() + ": run with -t 1 (kernel threads are a benchmark @Param, not JMH threads)");
        }
        forks = Math.max(1, benchmark.getForks()); // -f 0 runs in this JVM: one "fork"
    }

    @Setup(Level.Iteration)
    public void startIteration(IterationParams iteration) {
        measuring = iteration.getType() == IterationType.MEASUREMENT;
        measurementIterations = measuring ? iteration.getCount() : 0;
        bracketed = false;
        bracketedNanos = 0;
        iterationOps = 0;
        iterationStart = OS.getProcessCpuTime();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        long nanos = bracketed ? bracketedNanos : OS.getProcessCpuTime() - iterationStart;
        iterationCpuMs = nanos / 1e6;
        cpuMs = iterationCpuMs;
        ops = iterationOps;
        if (measuring) {
            measuredCpuMs += iterationCpuMs;
            measuredOps += iterationOps;
            measurementIterationsDone++;
        }
    }

    /** Counts one operation; the CPU window is the iteration (unless {@link #begin()} is used). */
    void op() {
        iterationOps++;
    }

    /** Starts a CPU window around one operation; only bracketed time counts in this iteration. */
    void begin() {
        bracketed = true;
        bracketStart = OS.getProcessCpuTime();
    }

    /** Ends the window {@link #begin()} opened and counts one operation. */
    void end() {
        bracketedNanos += OS.getProcessCpuTime() - bracketStart;
        iterationOps++;
    }

    /**
     * CPU milliseconds per operation: in the result table (the sum over iterations and forks) the
     * mean over forks of total measured CPU / total measured ops; see the class comment.
     */
    public double cpuMsPerOp() {
        if (!measuring) {
            return iterationOps == 0 ? 0 : iterationCpuMs / iterationOps;
        }
        if (measurementIterationsDone < measurementIterations || measuredOps == 0) {
            return 0;
        }
        return measuredCpuMs / measuredOps / forks;
    }
}

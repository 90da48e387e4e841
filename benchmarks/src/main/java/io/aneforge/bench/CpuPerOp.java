package io.aneforge.bench;

import java.lang.management.ManagementFactory;

/**
 * Process CPU time per operation over one JMH iteration, printed next to JMH's wall-clock
 * score. On a machine shared with other work, wall time per op grows with the load while CPU
 * time per op barely moves, so it is the steadier figure for comparing two kernels (it also
 * counts JIT and GC threads, small once warmed up). Not thread-safe: one benchmark thread.
 */
final class CpuPerOp {

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long cpuStart;
    private long ops;

    void start() {
        ops = 0;
        cpuStart = os.getProcessCpuTime();
    }

    void op() {
        ops++;
    }

    /** Prints {@code # cpu <label>: <ms> ms/op over <n> ops}; JMH shows it in the iteration's output. */
    void report(String label) {
        if (ops > 0) {
            double ms = (os.getProcessCpuTime() - cpuStart) / 1e6 / ops;
            System.out.printf("# cpu %s: %.4f ms/op over %d ops%n", label, ms, ops);
        }
    }
}

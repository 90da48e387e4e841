package io.aneforge.runtime;

/**
 * How to run a model.
 *
 * @param computeUnits Core ML compute units ({@code cpuOnly}, {@code cpuAndGPU},
 *     {@code cpuAndNeuralEngine}, {@code all}); the reference runtime accepts only
 *     {@code cpuOnly}
 * @param fp16Activations round every intermediate to FP16 like the Neural Engine does
 *     (reference runtime only)
 * @param threads worker threads for matrix kernels; 0 means one per available core
 */
public record RuntimeOptions(String computeUnits, boolean fp16Activations, int threads) {

    public static final java.util.List<String> COMPUTE_UNITS =
            java.util.List.of("cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all");

    public RuntimeOptions {
        if (!COMPUTE_UNITS.contains(computeUnits)) {
            throw new IllegalArgumentException("unknown compute units '" + computeUnits
                    + "': use one of " + COMPUTE_UNITS);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = one per core), got " + threads);
        }
    }

    public static RuntimeOptions defaults() {
        return new RuntimeOptions("cpuOnly", false, 0);
    }
}

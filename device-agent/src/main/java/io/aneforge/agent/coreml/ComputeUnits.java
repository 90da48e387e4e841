package io.aneforge.agent.coreml;

import io.aneforge.runtime.RuntimeOptions;

/**
 * {@link RuntimeOptions#computeUnits()} names to Apple's {@code MLComputeUnits} values
 * ({@code typedef NS_ENUM(NSInteger, MLComputeUnits)} in MLModelConfiguration.h):
 * {@code MLComputeUnitsCPUOnly = 0}, {@code MLComputeUnitsCPUAndGPU = 1},
 * {@code MLComputeUnitsAll = 2}, {@code MLComputeUnitsCPUAndNeuralEngine = 3} (macOS 13 / iOS 16).
 * Note that "all" is 2 and the newer CPU+ANE is 3: the order is not the order of the names.
 */
public final class ComputeUnits {

    public static final long CPU_ONLY = 0;
    public static final long CPU_AND_GPU = 1;
    public static final long ALL = 2;
    public static final long CPU_AND_NEURAL_ENGINE = 3;

    private ComputeUnits() {}

    /** The MLComputeUnits value for a RuntimeOptions name (which RuntimeOptions already validated). */
    public static long fromOption(String computeUnits) {
        return switch (computeUnits) {
            case "cpuOnly" -> CPU_ONLY;
            case "cpuAndGPU" -> CPU_AND_GPU;
            case "all" -> ALL;
            case "cpuAndNeuralEngine" -> CPU_AND_NEURAL_ENGINE;
            default -> throw new IllegalArgumentException("unknown compute units '" + computeUnits + "': use one of "
                    + RuntimeOptions.COMPUTE_UNITS);
        };
    }
}

package io.aneforge.recipe;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Core ML compute-unit settings ({@code MLComputeUnits}) a device agent benchmarks a variant with.
 * The ids are Apple's case names so that the agent can pass them through unchanged.
 */
public enum ComputeUnit {
    CPU_ONLY("cpuOnly"),
    CPU_AND_GPU("cpuAndGPU"),
    CPU_AND_NEURAL_ENGINE("cpuAndNeuralEngine"),
    ALL("all");

    private final String id;

    ComputeUnit(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Exact (case-sensitive, like Swift) match on the id; the message lists the valid ids. */
    public static ComputeUnit parse(String text) {
        for (ComputeUnit u : values()) {
            if (u.id.equals(text)) {
                return u;
            }
        }
        throw new IllegalArgumentException("unknown compute unit '" + text + "': use one of " + allIds());
    }

    static String allIds() {
        return Arrays.stream(values()).map(ComputeUnit::id).collect(Collectors.joining(", "));
    }
}

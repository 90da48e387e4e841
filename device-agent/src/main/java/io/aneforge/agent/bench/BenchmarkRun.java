package io.aneforge.agent.bench;

import io.aneforge.tensor.FloatTensor;
import java.util.Map;

/**
 * A benchmark result and the outputs of the first prediction, which the caller compares with
 * the golden outputs (accuracy) before reporting.
 */
public record BenchmarkRun(BenchmarkResult result, Map<String, FloatTensor> firstOutputs) {

    public BenchmarkRun {
        firstOutputs = Map.copyOf(firstOutputs);
    }
}

package io.aneforge.model;

import io.aneforge.tensor.FloatTensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An architecture and its weights, checked against each other: canonical Hub names (no head
 * prefix), projections {@code [out, in]}, all finite, in {@link ArchitectureConfig#expectedTensors} order.
 */
public record ImportedModel(ArchitectureConfig config, Map<String, FloatTensor> weights, String commit) {
    public ImportedModel {
        if (config == null || weights == null) {
            throw new IllegalStateException("imported model needs a config and weights");
        }
        weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
    }

    public FloatTensor weight(String name) {
        FloatTensor t = weights.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no weight '" + name + "' in this " + config.modelType() + " model");
        }
        return t;
    }
}

package io.aneforge.model;

import io.aneforge.tensor.FloatTensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An architecture and its weights, checked against each other: canonical Hub names (no head
 * prefix), projections {@code [out, in]}, all finite, in {@link ArchitectureConfig#expectedTensors} order.
 *
 * @param droppedHeads the task heads of the checkpoint that are not imported (their module names, e.g.
 *     {@code classifier}, {@code cls}), in checkpoint order: what the converted model does not compute
 */
public record ImportedModel(ArchitectureConfig config, Map<String, FloatTensor> weights, String commit,
                            List<String> droppedHeads) {
    public ImportedModel {
        if (config == null || weights == null) {
            throw new IllegalStateException("imported model needs a config and weights");
        }
        weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
        droppedHeads = droppedHeads == null ? List.of() : List.copyOf(droppedHeads);
    }

    /** A model whose checkpoint had no task head beside the base model. */
    public ImportedModel(ArchitectureConfig config, Map<String, FloatTensor> weights, String commit) {
        this(config, weights, commit, List.of());
    }

    public FloatTensor weight(String name) {
        FloatTensor t = weights.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no weight '" + name + "' in this " + config.modelType() + " model");
        }
        return t;
    }
}

package io.aneforge.registry.blob;

import io.aneforge.mil.Target;
import java.util.List;

/**
 * What a zipped {@code .mlpackage} says about itself, read from its {@code Manifest.json} and root
 * {@code model.mlmodel} (never from {@code weight.bin}): for cross-checking the facts a client declares
 * when it registers the archive as a variant.
 *
 * @param target the Core ML specification version's target (the oldest OS that loads the model), which the
 *               ML program's opset does not exceed
 * @param firstInput the model's first input (a converted variant's {@code input_ids})
 * @param firstInputShape that input's declared shape: {@code [1, seqLen]} for a converted variant
 * @param variantId the {@code aneforge.variant} metadata older converters wrote ({@code a17_pro-ios18-ane-int8-block32-s128}:
 *                  the chip, then the build id), or null
 * @param buildId the converter's {@code aneforge.build} metadata ({@code ios18-ane-int8-block32-s128}: no chip, since
 *                variants for several chips share the package), or null when the package was not written by a
 *                converter that writes it
 * @param interfaceSignature the model's inputs and outputs by name and element type, in order
 *                           ({@code inputs input_ids:INT32 attention_mask:INT32; outputs last_hidden_state:FLOAT32}):
 *                           what an app codes against, the same for every variant of a version (shapes left out: the
 *                           sequence length is a variant's own fact)
 */
public record PackageFacts(Target target, String firstInput, List<Long> firstInputShape, String variantId, String buildId,
                           String interfaceSignature) {

    /** The metadata key older converters wrote the variant id under. */
    public static final String VARIANT_METADATA = io.aneforge.graph.Graphs.VARIANT_METADATA;
    /** The metadata key the converter writes the build id under (ane-core's {@code Graphs}). */
    public static final String BUILD_METADATA = io.aneforge.graph.Graphs.BUILD_METADATA;
}

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
 * @param variantId the converter's {@code aneforge.variant} metadata ({@code a17_pro-ios18-ane-int8-block32-s128}),
 *                  or null when the package was not written by this converter
 */
public record PackageFacts(Target target, String firstInput, List<Long> firstInputShape, String variantId) {

    /** The metadata key the converter writes the variant id under (ane-core's {@code Graphs}). */
    public static final String VARIANT_METADATA = "aneforge.variant";
}

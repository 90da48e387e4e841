/**
 * What {@code aneforge eval} measures a package against: the converter's own FP32 graph of the source
 * ({@link io.aneforge.cli.reference.Reference#FP32_GRAPH}, the default, and what {@code convert} and the
 * converter worker measure), or the source's original ONNX file run by ONNX Runtime
 * ({@link io.aneforge.cli.reference.OnnxRuntimeReference}), an engine the converter shares no code with, so a
 * conversion mistake the FP32 graph would repeat shows up as a low cosine.
 */
package io.aneforge.cli.reference;

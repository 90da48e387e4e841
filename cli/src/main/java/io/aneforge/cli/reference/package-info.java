/**
 * What {@code aneforge eval} and {@code aneforge convert} measure fidelity against ({@code --reference}): the
 * converter's own FP32 graph of the source ({@link io.aneforge.cli.reference.Reference#FP32_GRAPH}, the default,
 * and what the golden data of {@code convert} and the converter worker is), or the source's original ONNX file
 * ({@link io.aneforge.cli.reference.SourceOnnx}) run by ONNX Runtime
 * ({@link io.aneforge.cli.reference.OnnxRuntimeReference}), an engine the converter shares no code with, so a
 * conversion mistake the FP32 graph would repeat shows up as a low cosine.
 */
package io.aneforge.cli.reference;

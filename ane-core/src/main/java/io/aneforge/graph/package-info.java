/**
 * Graph builders: an {@link io.aneforge.model.ImportedModel} and a
 * {@link io.aneforge.variant.VariantSpec} become a MIL {@link io.aneforge.mil.Program}.
 *
 * <p>Each architecture ({@link io.aneforge.graph.EncoderGraph} for BERT / MiniLM / DistilBERT,
 * {@link io.aneforge.graph.Gpt2Graph}) is written once against {@link io.aneforge.graph.Layers},
 * which has two implementations: {@link io.aneforge.graph.StandardLayers} (Hub layout
 * {@code (B, S, C)}, {@code linear}, {@code matmul}) and {@link io.aneforge.graph.AneLayers}
 * (CONVERTER.md rules R1–R9: {@code (B, C, 1, S)}, 1×1 convs, per-head einsum attention,
 * optional query chunking). {@link io.aneforge.graph.WeightStore} turns every weight into a
 * const or a constexpr dequantization op as the precision asks, and keeps the per-tensor
 * quantization reports. Both layouts expose the same inputs and outputs in the same shapes.
 */
package io.aneforge.graph;

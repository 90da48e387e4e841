package io.aneforge.cli.manifest;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.aneforge.eval.FidelityReport;
import java.util.List;
import java.util.Map;

/**
 * One variant in {@code variants.json}.
 *
 * @param id the variant id ({@code a17_pro-ios18-ane-int8-block32-s128}): the chip, then the build id
 * @param chip chip catalog id
 * @param deploymentTarget {@code ios16}, {@code ios18}, ...
 * @param layout {@code ane} or {@code standard}
 * @param precision precision id ({@code fp16}, {@code int8-block32})
 * @param blockSize elements per quantization block, 0 when not block-wise
 * @param seqLen static sequence length
 * @param attentionChunk query chunk of the attention, 0 when not chunked
 * @param path the {@code .mlpackage} directory, relative to {@code variants.json}: named by the build
 *             ({@code ios18-ane-int8-block32-s128.mlpackage}) and shared by the entries of that build, the variants
 *             that differ only in the chip (a directory of an older convert has one {@code <id>.mlpackage} per entry)
 * @param archive the deterministic zip of the package, relative to {@code variants.json}; shared like {@code path}
 * @param sha256 hex sha256 of the archive (what the registry stores and clients verify): entries sharing a package
 *               have the same one
 * @param size archive bytes
 * @param parameterCount elements of the imported weights the program uses
 * @param peakIntermediateBytes largest sum of live intermediate tensors (reference runtime order)
 * @param quantization summary of the weight encoding, null when weights stay FP32
 * @param computeUnits the compute-unit settings the recipe asks the device agents to benchmark
 * @param fidelity per output, the variant's outputs against the FP32 golden outputs
 */
public record VariantEntry(String id, String chip, String deploymentTarget, String layout, String precision,
                           int blockSize, int seqLen, int attentionChunk, String path, String archive, String sha256,
                           long size, long parameterCount, long peakIntermediateBytes, Quantization quantization,
                           List<String> computeUnits, Map<String, FidelityReport> fidelity) {

    public VariantEntry {
        if (id == null || sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalStateException("variant entry needs an id and a 64-hex sha256, got " + id + " / " + sha256);
        }
        computeUnits = List.copyOf(computeUnits);
        fidelity = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fidelity));
    }

    /**
     * @param tensors weight tensors encoded
     * @param bytesBefore their FP32 bytes
     * @param bytesAfter their stored bytes
     * @param minSqnrDb the worst tensor's signal-to-quantization-noise ratio
     * @param calibration what the calibration statistics were measured on, for a {@code -gptq} or {@code w8a8}
     *                    variant; null (and left out of the JSON, so other variants' entries keep their bytes) otherwise
     */
    public record Quantization(int tensors, long bytesBefore, long bytesAfter, double minSqnrDb,
                               @JsonInclude(JsonInclude.Include.NON_NULL) Calibration calibration) {

        public Quantization(int tensors, long bytesBefore, long bytesAfter, double minSqnrDb) {
            this(tensors, bytesBefore, bytesAfter, minSqnrDb, null);
        }

        public Quantization withCalibration(Calibration c) {
            return new Quantization(tensors, bytesBefore, bytesAfter, minSqnrDb, c);
        }
    }

    /**
     * The calibration statistics behind a {@code -gptq} variant (or a {@code w8a8} one's activation ranges): two variants with the same {@code sha256} were
     * quantized from the same statistics, bit for bit (it is the package's {@code aneforge.calibration_sha256}).
     *
     * @param texts {@code built-in} (the converter's 64 calibration texts) or {@code --calibration} (the user's file)
     * @param samples texts measured
     * @param tokens real tokens the statistics sum over (padding excluded)
     * @param sha256 hex sha256 of every statistic, bit for bit
     */
    public record Calibration(String texts, int samples, long tokens, String sha256) {
    }
}

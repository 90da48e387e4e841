package io.aneforge.worker.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.aneforge.model.HeadChoice;
import java.util.List;

/** The registry's JSON shapes the worker reads and writes (a subset of the registry's views). */
public final class RegistryModels {

    private RegistryModels() {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Source(String type, String repo, String revision, String commit, String path) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    /**
     * @param quantization block-wise: symmetric, affine, symmetric-mse, affine-mse, symmetric-gptq or affine-gptq, for int4 also with -ffn8
     *                     (FFN inputs at int8, V8) (null from a registry
     *                     older than V5: symmetric); w8a8: affine (w8a8-affine, V35) or null (symmetric activations)
     */
    public record Registration(String chip, String deploymentTarget, String layout, String precision, Integer blockSize,
                               String quantization, int seqLen) {}

    /** A planned variant; {@code target}/{@code layout}/{@code precision} are VariantSpec values. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record PlannedVariant(String specId, String chip, String target, String layout, String precision, int seqLen,
                                 int attentionChunk, String state, int builds, String digest, Long size, Long variantId,
                                 String error, Registration registration) {}

    /**
     * @param head {@code convert} (a checkpoint's task head is converted), {@code none} (hidden states) or a head kind, as
     *     {@code convert --head}; null from a registry before V30: {@code convert}
     * @param tokenTypes whether the packages take a {@code token_type_ids} input ({@code convert --token-types}); null
     *     from a registry before V30: false
     * @param goldenDigest the golden outputs' digest an earlier attempt reported ({@code sha256:<hex>}), or null
     * @param versionGolden the golden pair stored on the version; null from a registry that does not send it (then
     *     only {@code goldenDigest} tells what an earlier attempt computed)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Conversion(long id, String model, int version, Source source, String state, String step,
                             List<String> chips, String recipe, int seqLen, String head, Boolean tokenTypes, int attempts,
                             int maxAttempts, String commit, String goldenDigest, VersionGolden versionGolden,
                             String error, List<PlannedVariant> variants) {

        /**
         * Which task head to import: the conversion's {@code head} as {@code convert --head} reads it ({@code convert}
         * when a registry before V30 sends none).
         *
         * @throws IllegalArgumentException for a value this worker does not know (a registry newer than the worker),
         *     naming the values it knows
         */
        public HeadChoice headChoice() {
            try {
                return HeadChoice.parse(head == null ? "convert" : head);
            } catch (IllegalArgumentException e) {
                // HeadChoice.parse names convert's --head flag; this is the conversion's field, set by a publisher
                throw new IllegalArgumentException("conversion head '" + head + "' is not one this worker converts ("
                        + HeadChoice.values() + "); the registry may be newer than this worker: upgrade the converter"
                        + " worker, or publish the version with one of those heads", e);
            }
        }

        public boolean takesTokenTypes() {
            return Boolean.TRUE.equals(tokenTypes);
        }

        public PlannedVariant variant(String specId) {
            return variants.stream().filter(v -> v.specId().equals(specId)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("conversion " + id + " has no planned variant " + specId));
        }
    }

    /**
     * The golden pair stored on a conversion's version ({@code PUT .../golden}, by any attempt or worker release): its
     * blobs' digests ({@code sha256:<hex>}) and its golden format (the newer of the two blobs' {@code
     * GoldenOutputsCodec} versions), each null while the version has none.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record VersionGolden(String inputsDigest, String outputsDigest, Integer format) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Lease(String leaseToken, long leaseSeconds, Conversion conversion) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Variant(long id, String chip, String deploymentTarget, String layout, String precision, Integer blockSize,
                          String quantization, int seqLen, String digest, long size, String status) {}

    public record VariantReport(String specId, String state, String digest, Long size, Long variantId, String error) {}

    public record Progress(String leaseToken, String step, String commit, String goldenDigest, List<VariantReport> variants) {}
}

package io.aneforge.registry.conversion;

import io.aneforge.registry.model.ModelRecords.SourceView;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** The JSON shapes of conversions. */
public final class ConversionViews {

    private ConversionViews() {}

    /** What the variants API needs to register the variant (registry field names and values). */
    public record Registration(String chip, String deploymentTarget, String layout, String precision, Integer blockSize,
                               String quantization, int seqLen) {}

    /**
     * One planned variant. {@code target}/{@code layout}/{@code precision} are the
     * {@code io.aneforge.variant.VariantSpec} values (IOS18, ane, int8-block32).
     */
    public record VariantProgress(String specId, String chip, String target, String layout, String precision, int seqLen,
                                  int attentionChunk, String state, int builds, String digest, Long size, Long variantId,
                                  String error, Registration registration) {}

    /**
     * @param head {@code convert} (a fine-tuned checkpoint's task head is converted, as {@code convert}'s default),
     *     {@code none} (the packages output the base model's hidden states, {@code convert --head none}) or the head
     *     kind to convert ({@code sequence-classification}, ...: {@code HeadChoice}): of a checkpoint that has two,
     *     {@code fill-mask} of a pre-training checkpoint, {@code pre-training} of a BertForMaskedLM one that carries
     *     the next-sentence head
     * @param tokenTypes whether the packages take a {@code token_type_ids} input ({@code convert --token-types})
     * @param goldenDigest the golden outputs' digest a worker reported on the conversion ({@code sha256:<hex>}); a
     *     masked LM's is not reported (workers before masked samples would pair it with plain inputs)
     * @param versionGolden the golden pair stored on the conversion's version ({@code PUT .../golden}), never null
     *     (its fields are null while none is set): a retry reuses its outputs when its inputs are the bytes it builds
     * @param waitingFor why a queued conversion is not running yet (null for any other state), from the converter
     *     workers the registry saw lately ({@link ConverterWorkers#waitingFor}): none asked for work, none declares
     *     the options it needs (a non-default head or token types: workers of older releases skip it), every capable
     *     one busy, or its turn comes at an idle one's next call
     */
    public record ConversionView(long id, String model, int version, SourceView source, String state, String step,
                                 List<String> chips, String recipe, int seqLen, String head, boolean tokenTypes,
                                 int attempts, int maxAttempts,
                                 String leaseOwner, OffsetDateTime leaseExpiresAt, String commit, String goldenDigest,
                                 VersionGolden versionGolden, String error, OffsetDateTime createdAt, OffsetDateTime updatedAt,
                                 OffsetDateTime finishedAt, List<VariantProgress> variants, String waitingFor) {}

    /**
     * The golden pair on a conversion's version ({@code model_version}: what {@code PUT .../golden} stored, whoever
     * sent it), so that a worker resuming the conversion can tell whether an earlier attempt's outputs were computed
     * on the inputs it builds: the outputs go with the inputs they were computed on, which {@code goldenDigest} alone
     * does not say.
     *
     * @param inputsDigest  {@code sha256:<hex>} of the golden inputs blob; null while none is set
     * @param outputsDigest {@code sha256:<hex>} of the golden outputs blob; null while none is set
     * @param format        the pair's golden format (the newer of the two blobs' {@code GoldenOutputsCodec} headers,
     *                      read when it was set); null while none is set
     */
    public record VersionGolden(String inputsDigest, String outputsDigest, Integer format) {}

    /**
     * One row of the conversions list (the UI's "conversions in progress" panel): no variant details, just
     * counts; {@code variantsDone} counts registered variants.
     */
    public record ConversionSummary(long id, String model, int version, String state, String step, String leaseOwner,
                                    int attempts, int variantsDone, int variantsFailed, int variantsTotal, String error,
                                    OffsetDateTime createdAt, OffsetDateTime updatedAt, OffsetDateTime finishedAt) {}

    /** A granted lease: the token every later call of this worker must carry. */
    public record LeaseView(String leaseToken, OffsetDateTime leaseExpiresAt, long leaseSeconds, ConversionView conversion) {}

    /**
     * A worker's lease request; {@code worker} is a stable id (a restarted worker re-leases its own conversions).
     * {@code request} (optional) is a fresh random id per call: a worker that cannot read the answer releases
     * the lease granted for it ({@code POST /api/v1/conversions/lease-requests/{request}/release}).
     * {@code conversionOptions}: which conversion options the worker acts on; {@link
     * Conversions#OPTIONS_HEAD_TOKEN_TYPES} (1) for {@code head} and {@code tokenTypes}, absent (0) from older workers,
     * which are then never given a conversion that sets them.
     */
    public record LeaseRequest(String worker, UUID request, Integer conversionOptions) {

        /** What the worker declared; a worker that sends nothing (a release before head/tokenTypes) acts on none. */
        public int options() {
            return conversionOptions == null ? 0 : conversionOptions;
        }
    }

    /**
     * A converter worker the registry knows from its lease calls ({@code GET /api/v1/workers}).
     *
     * @param conversionOptions what it declared in its last lease call the registry wrote down (0: a worker of a
     *     release before head and tokenTypes); null for a lease holder that has not asked for work since the
     *     registry started tracking workers (V34)
     * @param lastCall its last lease call as written down: at most a quarter of {@code
     *     aneforge.conversions.worker-window} older than its real last call (rows are not written on every call)
     * @param running it asked for work within {@code aneforge.conversions.worker-window}, or holds an unexpired lease
     * @param holds the conversions it holds an unexpired lease on (normally none or one)
     */
    public record WorkerView(String worker, Integer conversionOptions, OffsetDateTime firstCall, OffsetDateTime lastCall,
                             boolean running, List<HeldConversion> holds) {}

    /** A conversion a worker holds: its id, model and version, and when the lease runs out without a heartbeat. */
    public record HeldConversion(long conversion, String model, int version, OffsetDateTime leaseExpiresAt) {}

    /**
     * Releasing the lease granted for a request: which conversion was released, if any. {@code released} (what
     * workers before V14 read) is true only for {@code outcome} {@code released}; the other fields are those of
     * {@link HandBack} (such a release is counted like a hand-back for trouble).
     */
    public record RequestRelease(UUID request, Long conversionId, boolean released, String outcome, int handBacks,
                                 int maxHandBacks, String failure) {}

    /**
     * What a release did: {@code released} (queued again) or, for a hand-back for trouble past
     * {@code aneforge.conversions.max-hand-backs} of this conversion by this worker, {@code failed} (the conversion
     * failed with {@code failure}); {@code none} only in a {@link RequestRelease} that found no lease.
     *
     * @param handBacks the worker's counted hand-backs of this conversion so far, this one included if counted
     */
    public record HandBack(Long conversionId, String outcome, int handBacks, int maxHandBacks, String failure) {
        public static final String RELEASED = "released", FAILED = "failed", NONE = "none";
    }

    /** A worker releasing the lease granted for one of its lease requests, whose answer it could not read. */
    public record RequestReleaseReport(String worker, String reason) {}

    public record VariantReport(String specId, String state, String digest, Long size, Long variantId, String error) {}

    /** Progress: the step now running and any variant state changes; commit and golden digest once known. */
    public record ProgressReport(String leaseToken, String step, String commit, String goldenDigest,
                                 List<VariantReport> variants) {}

    public record LeaseToken(String leaseToken) {}

    public record FailReport(String leaseToken, String reason) {}

    /**
     * A worker handing its lease back; {@code reason} (optional) is logged. {@code trouble}: the conversion could not
     * go on for a reason that is not its own (counted against {@code aneforge.conversions.max-hand-backs}); false
     * for a stopping worker. A request that names {@code trouble} (true or false) is answered 200 with a
     * {@link HandBack}; one without it (a worker before V14, which expects 204) gets 204 and is not counted.
     */
    public record ReleaseReport(String leaseToken, String reason, Boolean trouble) {}
}

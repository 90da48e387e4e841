package io.aneforge.agent.coreml;

import java.util.Map;

/**
 * The parts of an {@code NSError} the agent reports: {@code domain}, {@code code},
 * {@code localizedDescription} and, when present, {@code localizedFailureReason}.
 */
public record NsErrorInfo(String domain, long code, String description, String failureReason) {

    /** {@code MLModelError} codes (MLModelError.h) in the {@code com.apple.CoreML} domain. */
    static final Map<Long, String> ML_MODEL_ERRORS = Map.ofEntries(
            Map.entry(0L, "MLModelErrorGeneric"),
            Map.entry(1L, "MLModelErrorFeatureType"),
            Map.entry(3L, "MLModelErrorIO"),
            Map.entry(4L, "MLModelErrorCustomLayer"),
            Map.entry(5L, "MLModelErrorCustomModel"),
            Map.entry(6L, "MLModelErrorUpdate"),
            Map.entry(7L, "MLModelErrorParameters"),
            Map.entry(8L, "MLModelErrorModelDecryptionKeyFetch"),
            Map.entry(9L, "MLModelErrorModelDecryption"),
            Map.entry(10L, "MLModelErrorModelCollection"),
            Map.entry(11L, "MLModelErrorPredictionCancelled"));

    public static final String CORE_ML_DOMAIN = "com.apple.CoreML";

    /**
     * "Core ML could not compile /cache/m.mlpackage: &lt;description&gt; (&lt;reason&gt;) [com.apple.CoreML
     * MLModelErrorIO (3)]". A null error (Core ML returned nil without one) says so.
     */
    static String describe(String action, Object subject, NsErrorInfo error) {
        if (error == null) {
            return "Core ML could not " + action + " " + subject + " and gave no NSError";
        }
        StringBuilder sb = new StringBuilder("Core ML could not ").append(action).append(' ').append(subject).append(": ")
                .append(error.description() == null || error.description().isBlank() ? "(no description)" : error.description());
        if (error.failureReason() != null && !error.failureReason().isBlank()
                && !error.failureReason().equals(error.description())) {
            sb.append(" (").append(error.failureReason()).append(')');
        }
        sb.append(" [").append(error.domain());
        String name = CORE_ML_DOMAIN.equals(error.domain()) ? ML_MODEL_ERRORS.get(error.code()) : null;
        sb.append(' ').append(name == null ? "code " + error.code() : name + " (" + error.code() + ")").append(']');
        return sb.toString();
    }
}

package io.aneforge.cli.registry;

import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.variant.Precision;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Maps a converted variant to the registry's variant fields. The registry records precision
 * coarsely ({@code fp16}, {@code int8}, {@code int4}, {@code w8a8}, {@code fp32}) plus a block size,
 * and deployment targets as {@code MAJOR.MINOR} in iOS numbering.
 */
public final class Registrations {

    private Registrations() {
    }

    public static Map<String, Object> of(VariantEntry e) {
        Precision p = Precision.parse(e.precision());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chip", e.chip());
        m.put("deploymentTarget", deploymentTarget(e.deploymentTarget()));
        m.put("layout", e.layout());
        m.put("precision", precision(p));
        m.put("blockSize", p.blockSize() == 0 ? null : p.blockSize());
        m.put("seqLen", e.seqLen());
        m.put("digest", "sha256:" + e.sha256());
        return m;
    }

    /** {@code ios18} becomes {@code 18.0}. */
    static String deploymentTarget(String target) {
        if (!target.matches("ios\\d+")) {
            throw new IllegalStateException("deployment target '" + target + "' is not of the form iosNN");
        }
        return target.substring(3) + ".0";
    }

    static String precision(Precision p) {
        switch (p.scheme()) {
            case FP32: return "fp32";
            case FP16: return "fp16";
            case W8A8: return "w8a8";
            case INT4_BLOCK: return "int4";
            default: return "int8"; // per-channel and block-wise INT8
        }
    }
}

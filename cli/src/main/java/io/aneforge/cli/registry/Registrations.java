package io.aneforge.cli.registry;

import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.variant.Precision;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Maps a converted variant to the registry's variant fields. The registry records precision
 * as a coarse name ({@code fp16}, {@code int8}, {@code int4}, {@code w8a8}, {@code fp32}) plus, for
 * block-wise weights, a block size and a quantization ({@code symmetric}, {@code affine}, or either with
 * clip-searched scales: {@code symmetric-mse}, {@code affine-mse}; GPTQ: {@code symmetric-gptq},
 * {@code affine-gptq}; int4 with the FFN inputs at int8: any of them with {@code -ffn8}), for
 * {@code w8a8-affine} quantization {@code affine} without a block size (V35), and deployment targets as
 * {@code MAJOR.MINOR} in iOS numbering.
 */
public final class Registrations {

    private Registrations() {
    }

    /** @throws IllegalArgumentException naming the field when the entry's precision or deployment target is not one */
    public static Map<String, Object> of(VariantEntry e) {
        if (e.precision() == null) {
            throw new IllegalArgumentException("has no precision");
        }
        Precision p;
        try {
            p = Precision.parse(e.precision());
        } catch (IllegalArgumentException x) {
            throw new IllegalArgumentException("precision: " + x.getMessage());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chip", e.chip());
        m.put("deploymentTarget", deploymentTarget(e.deploymentTarget()));
        m.put("layout", e.layout());
        m.put("precision", p.family());
        m.put("blockSize", p.blockSize() == 0 ? null : p.blockSize());
        m.put("quantization", p.registryQuantization());
        m.put("seqLen", e.seqLen());
        m.put("digest", "sha256:" + e.sha256());
        return m;
    }

    /** {@code ios18} becomes {@code 18.0}; anything else is an {@link IllegalArgumentException}. */
    static String deploymentTarget(String target) {
        if (target == null || !target.matches("ios\\d+")) {
            throw new IllegalArgumentException("deploymentTarget '" + target + "' is not of the form iosNN (e.g. ios18)");
        }
        return target.substring(3) + ".0";
    }
}

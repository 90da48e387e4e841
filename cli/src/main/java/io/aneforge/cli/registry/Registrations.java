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
 * {@code affine-gptq}; int4 with the FFN inputs at int8: any of them with {@code -ffn8}), and
 * deployment targets as {@code MAJOR.MINOR} in iOS numbering.
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
        m.put("precision", p.family());
        m.put("blockSize", p.blockSize() == 0 ? null : p.blockSize());
        m.put("quantization", p.blockQuantization());
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
}

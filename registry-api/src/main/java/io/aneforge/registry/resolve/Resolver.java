package io.aneforge.registry.resolve;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.Device;
import io.aneforge.chips.OsVersion;
import io.aneforge.chips.Platform;
import io.aneforge.chips.VariantPolicy;
import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.alias.Aliases;
import io.aneforge.registry.cache.ExpiringCache;
import io.aneforge.registry.download.DownloadSigner;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.model.RegistryChanged;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.variant.Variants;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.event.TransactionPhase;
import org.springframework.transaction.event.TransactionalEventListener;
import tools.jackson.databind.json.JsonMapper;

/**
 * Picks the variant a device should download. The rule (also in the README):
 * <ol>
 *   <li>The device's chip comes from the device map ({@code device=}) or is given ({@code chip=}).</li>
 *   <li>Candidate chips in order: {@link VariantPolicy#compatibleChips} — the chip itself, then the
 *       same generation of the same line, then older generations of the same line, newest first.</li>
 *   <li>The first candidate chip with a variant whose deployment target is {@code <=} the device OS
 *       wins; among its variants: newest deployment target (it dominates: precision only breaks ties
 *       between variants of the same target, so an iOS 18 int8 variant beats an iOS 16 fp16 one on an
 *       iOS 18 device), then layout {@code ane} before
 *       {@code standard}, then precision in {@link Variants#PRECISIONS} order, then the longest
 *       sequence length, then the smallest block size, then block quantization in {@link #QUANTIZATION_ORDER}
 *       (the order measured closer to the original on all-MiniLM-L6-v2 int4-block32), with {@code w8a8-affine}
 *       before {@code w8a8} ({@link #quantizationRank}), then the oldest registration.</li>
 * </ol>
 * With {@code precision=} / {@code layout=} ({@link VariantFilter}) the rule runs over the matching variants only;
 * when none of them fits but another variant would, the refusal {@code no-variant-matches-filter} lists what fits.
 * Answers (and refusals) are cached for {@code aneforge.cache-ttl}, per filter, and dropped when a local write commits.
 */
@Service
public class Resolver {

    /**
     * A computed answer: the JSON body, its ETag, and the resolution the body was written from (a signed answer is
     * minted from it per request).
     */
    public record Answer(byte[] json, String etag, Resolution resolution) {}

    public record VariantFacts(String chip, String deploymentTarget, String layout, String precision, Integer blockSize,
                               String quantization, int seqLen) {}

    /**
     * @param variantId the picked variant's id (as in the matrix and {@code GET .../variants}), so an app build can
     *                  log which variant it shipped; appended last, as fields are only ever added
     */
    public record Resolution(String model, int version, String alias, String requestedChip, boolean fallback,
                             VariantFacts variant, String digest, long size, String url, String minimumOs, long variantId) {}

    /** A signed answer: the resolution's fields, then the signed URL's, in that order. */
    record SignedResolution(@JsonUnwrapped Resolution resolution, String downloadUrl, String downloadUrlExpiresAt) {}

    private record Key(String model, String alias, Integer version, String chip, OsVersion os, VariantFilter filter) {}

    /** The model and the version an alias or a version number names (version columns null when there is none). */
    private record Target(long modelId, Long versionId, Integer version, String status) {
        /** Reads {@code m.id, v.id, v.version, v.status}. */
        static final RowMapper<Target> ROW = (rs, i) -> new Target(rs.getLong(1), rs.getObject(2, Long.class),
                rs.getObject(3, Integer.class), rs.getString(4));
    }

    private record Candidate(long id, String chip, OsVersion target, String layout, String precision, Integer blockSize,
                             String quantization, int seqLen, String digestHex, long size) {}

    private final JdbcClient jdbc;
    private final ChipCatalog catalog;
    private final VariantPolicy policy;
    private final JsonMapper json;
    private final String baseUrl;
    private final ExpiringCache<Key, Object> cache;
    private final DownloadSigner signer;

    Resolver(JdbcClient jdbc, ChipCatalog catalog, VariantPolicy policy, JsonMapper json, RegistryProperties props,
             DownloadSigner signer) {
        this.signer = signer;
        this.jdbc = jdbc;
        this.catalog = catalog;
        this.policy = policy;
        this.json = json;
        this.baseUrl = props.publicBaseUrl() == null ? "" : props.publicBaseUrl();
        this.cache = new ExpiringCache<>(props.cacheTtl(), 50_000);
    }

    /**
     * After the writer's commit, not inside its transaction: cleared before the commit, a resolve running
     * meanwhile would read the old row and cache it for a whole TTL. Writes outside a transaction (gates)
     * are committed when they publish, so they invalidate at once.
     */
    @TransactionalEventListener(phase = TransactionPhase.AFTER_COMMIT, fallbackExecution = true)
    void onChange(RegistryChanged e) {
        cache.invalidateAll();
    }

    /**
     * @param precision null, a precision family ({@code int8}, {@code w8a8}), a full precision id
     *                  ({@code int8-block32}, {@code w8a8-affine}) or {@code w8a8-symmetric}: only matching variants are
     *                  considered ({@link VariantFilter})
     * @param layout    null, {@code ane} or {@code standard}
     */
    public Answer resolve(String model, String alias, Integer version, String device, String chipId, String os,
                          String precision, String layout) {
        VariantFilter filter = VariantFilter.of(precision, layout);
        if ((device == null) == (chipId == null)) {
            throw ApiProblem.badRequest("device-or-chip-required", "Device or chip required",
                    "pass exactly one of device= (e.g. iPhone16,1) or chip= (e.g. A17_PRO)");
        }
        if (os == null) {
            throw ApiProblem.badRequest("missing-parameter", "Missing query parameter",
                    "query parameter 'os' (the device's OS version, e.g. 18.2) is required");
        }
        Chip chip;
        Platform platform = Platform.IOS;
        if (device != null) {
            Optional<Device> d = catalog.device(device);
            if (d.isEmpty()) {
                throw ApiProblem.badRequest("unknown-device", "Unknown device identifier",
                        "device identifier '" + device + "' is not in the device map; pass chip= instead (GET /api/v1/chips lists "
                                + "the chips) or add the device to io/aneforge/chips/devices.psv").with("device", device);
            }
            chip = catalog.chip(d.get().chipId()).orElseThrow();
            platform = d.get().platform();
        } else {
            chip = catalog.chip(chipId).orElseThrow(() -> ApiProblem.badRequest("unknown-chip", "Unknown chip",
                    "chip '" + chipId + "' is not in the catalog; known chips: " + chipIds()).with("chips", chipIds()));
        }
        OsVersion osVersion;
        try {
            osVersion = OsVersion.parse(os).toIosNumbering(platform);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest("invalid-os", "Invalid OS version", e.getMessage());
        }
        String effectiveAlias = version == null && alias == null ? "production" : alias;
        if (version != null && alias != null) {
            throw ApiProblem.badRequest("alias-or-version", "Alias or version",
                    "pass either alias= or version=, not both");
        }
        Chip c = chip;
        Object v = cache.get(new Key(model, effectiveAlias, version, chip.id(), osVersion, filter), k -> {
            try {
                return compute(model, effectiveAlias, version, c, osVersion, filter);
            } catch (ApiProblem p) {
                return p; // refusals are cached too: they are as hot as answers for a misconfigured app
            }
        });
        if (v instanceof ApiProblem p) throw p;
        return (Answer) v;
    }

    private List<String> chipIds() {
        return catalog.chips().stream().map(Chip::id).toList();
    }

    private Answer compute(String model, String alias, Integer requestedVersion, Chip chip, OsVersion os, VariantFilter filter) {
        Target t;
        if (requestedVersion == null) {
            t = jdbc.sql("SELECT m.id, v.id, v.version, v.status FROM model m LEFT JOIN alias a ON a.model_id = m.id AND a.name = ?"
                            + " LEFT JOIN model_version v ON v.id = a.version_id WHERE m.name = ?")
                    .params(alias, model)
                    .query(Target.ROW)
                    .optional().orElseThrow(() -> Models.modelNotFound(model));
            if (t.versionId() == null) {
                List<String> names = jdbc.sql("SELECT name FROM alias WHERE model_id = ? ORDER BY name").param(t.modelId())
                        .query(String.class).list();
                throw Aliases.aliasNotSet(model, alias, names);
            }
        } else {
            t = jdbc.sql("SELECT m.id, v.id, v.version, v.status FROM model m LEFT JOIN model_version v ON v.model_id = m.id"
                            + " AND v.version = ? WHERE m.name = ?")
                    .params(requestedVersion, model)
                    .query(Target.ROW)
                    .optional().orElseThrow(() -> Models.modelNotFound(model));
            if (t.versionId() == null) {
                throw ApiProblem.notFound("version-not-found", "Version not found", "model '" + model + "' has no version " + requestedVersion);
            }
            if (!"published".equals(t.status())) {
                throw ApiProblem.conflict("version-not-published", "Version not published",
                        "version " + requestedVersion + " of '" + model + "' is " + t.status() + "; only published versions resolve");
            }
        }
        List<Candidate> unfiltered = jdbc.sql("SELECT id, chip, deployment_target, layout, precision, block_size, quantization, seq_len,"
                        + " blob_digest, size FROM variant WHERE version_id = ? AND status = 'available'")
                .param(t.versionId())
                .query((rs, i) -> new Candidate(rs.getLong(1), rs.getString(2), OsVersion.parse(rs.getString(3)), rs.getString(4),
                        rs.getString(5), (Integer) rs.getObject(6, Integer.class), rs.getString(7), rs.getInt(8), rs.getString(9),
                        rs.getLong(10)))
                .list();
        List<Candidate> all = unfiltered.stream()
                .filter(c -> filter.matches(c.layout(), c.precision(), c.blockSize(), c.quantization())).toList();

        for (Chip candidateChip : policy.compatibleChips(chip)) {
            Optional<Candidate> best = all.stream()
                    .filter(c -> c.chip().equals(candidateChip.id()) && c.target().compareTo(os) <= 0).min(PREFERENCE);
            if (best.isPresent()) return answer(model, t.version(), alias, chip, best.get());
        }
        if (!filter.isEmpty()) refuseFilter(model, t.version(), chip, os, filter, unfiltered);
        // Nothing fits even without the filter: the usual refusals, over every variant of the version.
        OsVersion lowestTarget = null;
        List<String> compatible = new ArrayList<>();
        for (Chip candidateChip : policy.compatibleChips(chip)) {
            compatible.add(candidateChip.id());
            for (Candidate c : unfiltered) {
                if (!c.chip().equals(candidateChip.id())) continue;
                if (lowestTarget == null || c.target().compareTo(lowestTarget) < 0) lowestTarget = c.target();
            }
        }
        TreeSet<String> chipsWithVariants = new TreeSet<>();
        unfiltered.forEach(c -> chipsWithVariants.add(c.chip()));
        if (lowestTarget == null) {
            throw ApiProblem.notFound("no-variant-for-chip", "No variant for this chip",
                            "version " + t.version() + " of '" + model + "' has no variant usable on " + chip.id()
                                    + " (compatible chips, best first: " + compatible + "); it has variants for "
                                    + (chipsWithVariants.isEmpty() ? "no chip at all" : chipsWithVariants))
                    .with("chip", chip.id()).with("compatibleChips", compatible)
                    .with("chipsWithVariants", List.copyOf(chipsWithVariants));
        }
        String min = lowestTarget.major() + "." + lowestTarget.minor();
        throw ApiProblem.unprocessable("os-too-old", "OS too old",
                        "OS " + os + " (iOS numbering) is below the minimum of every variant usable on " + chip.id()
                                + "; the lowest deployment target among them is " + min + "; update the device or build a variant for an older target")
                .with("minimumOs", min).with("chip", chip.id());
    }

    /**
     * The filter left nothing although the device could use some variant without it: say what the device can have,
     * so the app asks for one of those. When even the unfiltered variants do not fit, the filter is not the reason
     * and the usual refusal ({@code no-variant-for-chip}, {@code os-too-old}) follows.
     */
    private void refuseFilter(String model, int version, Chip chip, OsVersion os, VariantFilter filter,
                              List<Candidate> unfiltered) {
        TreeSet<String> precisions = new TreeSet<>();
        TreeSet<String> layouts = new TreeSet<>();
        for (Chip candidateChip : policy.compatibleChips(chip)) {
            List<Candidate> usable = unfiltered.stream()
                    .filter(c -> c.chip().equals(candidateChip.id()) && c.target().compareTo(os) <= 0).toList();
            for (Candidate c : usable) {
                precisions.add(VariantFilter.precisionName(c.precision(), c.blockSize(), c.quantization()));
                layouts.add(c.layout());
            }
        }
        if (precisions.isEmpty()) return;
        throw ApiProblem.notFound("no-variant-matches-filter", "No variant matches the filter",
                        "version " + version + " of '" + model + "' has no variant with " + filter.describe() + " usable on "
                                + chip.id() + " at OS " + os + " (iOS numbering); the variants usable there have precisions "
                                + precisions + " and layouts " + layouts + "; ask for one of those or drop the filter")
                .with("chip", chip.id()).with("precisions", List.copyOf(precisions)).with("layouts", List.copyOf(layouts));
    }

    /**
     * Block quantization, best first: on all-MiniLM-L6-v2 int4-block32 each measured closer to the original than
     * the next (docs/converter.md); variants without a block size have none and tie. The {@code -ffn8} modes
     * (FFN inputs at int8, about 13 % bigger) come where their fidelity puts them, as the precision order puts
     * accuracy before size: so symmetric-ffn8 between affine-mse and affine. GPTQ (-gptq, the range fit's sizes)
     * likewise: affine-gptq-ffn8 (0.990), affine-gptq (0.985) and symmetric-gptq-ffn8 (0.9835) first,
     * symmetric-gptq (0.976) between symmetric-mse-ffn8 and affine-mse.
     */
    static final List<String> QUANTIZATION_ORDER = List.of("affine-gptq-ffn8", "affine-gptq", "symmetric-gptq-ffn8",
            "affine-mse-ffn8", "affine-ffn8", "symmetric-mse-ffn8", "symmetric-gptq", "affine-mse", "symmetric-ffn8",
            "affine", "symmetric-mse", "symmetric");

    /**
     * Where a quantization sorts among its precision's variants of the same block size, best first. Block-wise rows
     * always have one (V5), in {@link #QUANTIZATION_ORDER}. Rows without blocks have none, except w8a8 with affine
     * activations (V35: quantization {@code affine}), which comes before w8a8's symmetric activations (none): on
     * all-MiniLM-L6-v2 (32 sentences) it measured 0.9896 mean token cosine against 0.9724, worst token 0.956 against
     * 0.864 (docs/converter.md, "W8A8"), for about 150 bytes more (the zero points); its speed on a Neural Engine is not
     * measured. Its precision stays w8a8, so int8 (per-channel and block-wise) still comes first and int4 after it.
     */
    static int quantizationRank(String quantization) {
        return quantization == null ? QUANTIZATION_ORDER.size() : QUANTIZATION_ORDER.indexOf(quantization);
    }

    /** Best first: newest target, ane layout, precision order, longest sequence, smallest block, quantization rank, oldest id. */
    private static final Comparator<Candidate> PREFERENCE = Comparator
            .comparing(Candidate::target, Comparator.reverseOrder())
            .thenComparingInt(c -> Variants.LAYOUTS.indexOf(c.layout()))
            .thenComparingInt(c -> Variants.PRECISIONS.indexOf(c.precision()))
            .thenComparing(Candidate::seqLen, Comparator.reverseOrder())
            .thenComparing(c -> c.blockSize() == null ? 0 : c.blockSize())
            .thenComparingInt(c -> quantizationRank(c.quantization()))
            .thenComparingLong(Candidate::id);

    private Answer answer(String model, int version, String alias, Chip requested, Candidate c) {
        String target = c.target().major() + "." + c.target().minor();
        Resolution r = new Resolution(model, version, alias, requested.id(), !c.chip().equals(requested.id()),
                new VariantFacts(c.chip(), target, c.layout(), c.precision(), c.blockSize(), c.quantization(), c.seqLen()),
                "sha256:" + c.digestHex(), c.size(), baseUrl + "/api/v1/blobs/sha256:" + c.digestHex(), target, c.id());
        byte[] body = json.writeValueAsBytes(r);
        return new Answer(body, "\"" + sha256(body).substring(0, 32) + "\"", r);
    }

    /**
     * The answer with {@code downloadUrl} (its {@code url} signed for {@code aneforge.download-url-ttl}: no token
     * needed) and {@code downloadUrlExpiresAt} appended. Minted per call from the cached answer's resolution.
     *
     * @throws io.aneforge.registry.problem.ApiProblem 409 {@code signed-urls-off} when no signing key is configured
     */
    public byte[] withDownloadUrl(Answer a, Instant now) {
        Resolution r = a.resolution();
        DownloadSigner.Signed signed = signer.sign(r.digest().substring("sha256:".length()), now);
        return json.writeValueAsBytes(new SignedResolution(r, r.url() + "?" + signed.query(), signed.expiresAt().toString()));
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.aneforge.registry.variant;

import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.OsVersion;
import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.blob.Blob;
import io.aneforge.registry.blob.Blobs;
import io.aneforge.registry.blob.MlpackageArchive;
import io.aneforge.registry.blob.PackageFacts;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.model.ModelRecords.VersionRef;
import io.aneforge.registry.model.RegistryChanged;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.mil.Target;
import io.aneforge.variant.Precision;
import io.aneforge.variant.PrecisionSelector;
import io.aneforge.variant.VariantSpec;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Variants of a version: registered while the version is a draft, immutable afterwards. */
@Service
public class Variants {

    public static final List<String> LAYOUTS = List.of("ane", "standard");
    /**
     * Also the resolve preference order, best first (documented in the README): ane-core's precision families, the one
     * list that resolve's filter and the gates' per-precision keys read too.
     */
    public static final List<String> PRECISIONS = PrecisionSelector.FAMILIES;
    private static final List<String> BLOCKWISE = List.of("int8", "int4");
    /** The quantization of a w8a8 row with affine activations (V35); a w8a8 row without one is symmetric. */
    private static final String W8A8_AFFINE = "affine";
    /**
     * How block-wise weights are quantized; the first is the default (all that V1 clients could mean).
     * The {@code -mse} modes (V7) have clip-searched scales ({@link Precision#mse()}); the {@code -ffn8}
     * modes (V8, int4 only) keep the FFN input projections at int8 ({@link Precision#ffn8()}); the {@code -gptq}
     * modes (V9) are GPTQ-quantized ({@link Precision#gptq()}).
     */
    public static final List<String> QUANTIZATIONS = List.of("symmetric", "affine", "symmetric-mse", "affine-mse",
            "symmetric-ffn8", "affine-ffn8", "symmetric-mse-ffn8", "affine-mse-ffn8",
            "symmetric-gptq", "affine-gptq", "symmetric-gptq-ffn8", "affine-gptq-ffn8");

    /**
     * @param quantization {@link #QUANTIZATIONS} for block-wise int8/int4, {@code affine} for w8a8 with affine
     *                     activations (w8a8-affine, V35), else null (w8a8 with symmetric activations among them)
     */
    public record VariantView(long id, String chip, String deploymentTarget, String layout, String precision,
                              Integer blockSize, String quantization, int seqLen, String digest, long size, String status,
                              String yankReason) {}

    /**
     * @param precision a coarse name ({@link #PRECISIONS}), completed by {@code blockSize} and {@code quantization}
     *                  for block-wise int8/int4; or a full scheme id such as {@code int8-block32-affine} or
     *                  {@code int8-channel} ({@link Precision}), which needs neither
     * @param quantization block-wise: {@code symmetric} (default), {@code affine}, {@code symmetric-mse},
     *                     {@code affine-mse}, {@code symmetric-gptq} or {@code affine-gptq}; for int4 also each of them
     *                     with {@code -ffn8}. {@code w8a8}: {@code affine} (activations with zero points, w8a8-affine)
     *                     or none (symmetric activations)
     * @param computeUnits the Core ML compute-unit settings to benchmark; null: all four
     */
    public record NewVariant(String chip, String deploymentTarget, String layout, String precision,
                             Integer blockSize, String quantization, Integer seqLen, String digest,
                             List<String> computeUnits) {

        public NewVariant(String chip, String deploymentTarget, String layout, String precision,
                          Integer blockSize, Integer seqLen, String digest) {
            this(chip, deploymentTarget, layout, precision, blockSize, null, seqLen, digest, null);
        }
    }

    /** A request's precision, normalized to what is stored: coarse name, block size, quantization. */
    record PrecisionFields(String precision, Integer blockSize, String quantization) {

        static PrecisionFields of(String precision, Integer blockSize, String quantization) {
            if (precision == null || precision.isBlank()) {
                throw invalid("precision is required: one of " + PRECISIONS
                        + " (block-wise int8/int4 with blockSize and quantization), or a full scheme such as int8-block32-affine");
            }
            if (!PRECISIONS.contains(precision)) {
                return ofScheme(precision, blockSize, quantization);
            }
            if (blockSize == null) {
                if ("w8a8".equals(precision) && quantization != null) {
                    // W8A8's activation mode (V35): the one quantization a variant without blocks has
                    if (!W8A8_AFFINE.equals(quantization)) {
                        throw invalid("quantization '" + quantization + "' does not apply to w8a8: give affine (int8"
                                + " activations with zero points, the same as precision w8a8-affine) or omit it (symmetric"
                                + " activations)");
                    }
                    return new PrecisionFields(precision, null, quantization);
                }
                if (quantization != null) {
                    throw invalid("quantization '" + quantization + "' applies to block-wise " + BLOCKWISE
                            + " precision (give blockSize) and to w8a8 (affine activations) only; omit it for " + precision);
                }
                if ("int4".equals(precision)) {
                    // int8 without a block size is per-channel int8; int4 exists only block-wise
                    throw invalid("precision int4 is block-wise only: give blockSize (32, 64 or 128), or a full scheme"
                            + " such as int4-block32");
                }
                return new PrecisionFields(precision, null, null);
            }
            if (blockSize <= 0 || !BLOCKWISE.contains(precision)) {
                throw invalid("blockSize " + blockSize + " is only meaningful (and must be positive) for block-wise "
                        + BLOCKWISE + " precision; omit it for " + precision);
            }
            String q = quantization == null ? QUANTIZATIONS.get(0) : quantization;
            if (!QUANTIZATIONS.contains(q)) {
                throw invalid("quantization '" + q + "' must be one of " + QUANTIZATIONS + " (omitted means symmetric)");
            }
            if (q.endsWith("-ffn8") && !"int4".equals(precision)) {
                throw invalid("quantization '" + q + "' keeps the FFN inputs of an int4 variant at int8; it does not apply"
                        + " to " + precision + " (use " + q.substring(0, q.length() - "-ffn8".length()) + ")");
            }
            try {
                // the same rules the converter applies (block sizes 32/64/128), so nothing stored is a scheme that
                // the matrix, the gates or the agents cannot read back
                Precision.ofRegistry(precision, blockSize, q);
            } catch (IllegalArgumentException e) {
                throw invalid("precision " + precision + " with blockSize " + blockSize + " and quantization '" + q
                        + "' is not a scheme the converter writes: " + e.getMessage());
            }
            return new PrecisionFields(precision, blockSize, q);
        }

        /** A full scheme id ({@link Precision#id()}); blockSize and quantization, if also given, must agree with it. */
        private static PrecisionFields ofScheme(String scheme, Integer blockSize, String quantization) {
            Precision p;
            try {
                p = Precision.parse(scheme);
            } catch (IllegalArgumentException e) {
                throw invalid("precision '" + scheme + "' must be one of " + PRECISIONS + " (block-wise int8/int4 with"
                        + " blockSize and quantization) or a full scheme: " + e.getMessage());
            }
            Integer block = p.blockSize() == 0 ? null : p.blockSize();
            if (blockSize != null && !blockSize.equals(block)) {
                throw invalid("blockSize " + blockSize + " contradicts precision '" + scheme + "'"
                        + (block == null ? ", which has no blocks" : " (block size " + block + ")") + "; omit blockSize");
            }
            String q = p.registryQuantization(); // w8a8-affine: affine without a block size (V35)
            if (quantization != null && !quantization.equals(q)) {
                throw invalid("quantization '" + quantization + "' contradicts precision '" + scheme + "'"
                        + (q == null ? ", which has none" : " (" + q + ")") + "; omit quantization");
            }
            return new PrecisionFields(p.family(), block, q);
        }

        /** The full scheme for messages: int8-block32-affine, int4-block32-affine-mse, int8 (no block), fp16. */
        String describe() {
            return fullScheme(precision, blockSize, quantization);
        }
    }

    /**
     * The full scheme of stored fields, as {@link Precision#id()} spells it, except that per-channel int8 stays
     * {@code int8}: {@code int8-block32}, {@code int4-block32-affine-mse}, {@code fp16}, {@code w8a8-affine}.
     */
    public static String fullScheme(String precision, Integer blockSize, String quantization) {
        if (blockSize == null && quantization == null) {
            return precision;
        }
        return Precision.ofRegistry(precision, blockSize, quantization).id();
    }

    private final JdbcClient jdbc;
    private final Models models;
    private final Blobs blobs;
    private final MlpackageArchive archive;
    private final ChipCatalog chips;
    private final ApplicationEventPublisher events;

    Variants(JdbcClient jdbc, Models models, Blobs blobs, MlpackageArchive archive, ChipCatalog chips,
             ApplicationEventPublisher events) {
        this.jdbc = jdbc;
        this.models = models;
        this.blobs = blobs;
        this.archive = archive;
        this.chips = chips;
        this.events = events;
    }

    @Transactional
    public VariantView register(String model, int version, NewVariant n, Caller caller) {
        VersionRef v = models.lockVersion(model, version);
        if (!"draft".equals(v.status())) {
            throw ApiProblem.conflict("version-immutable", "Version is immutable",
                    "version " + version + " of '" + model + "' is " + v.status()
                            + "; variants can only be added to a draft version — create a new version instead");
        }
        // like the CLI, any case names a catalog chip (a17_pro is A17_PRO); what is stored is the catalog's id
        String chip = n.chip() == null || chips.chip(n.chip()).isPresent() ? n.chip() : n.chip().strip().toUpperCase(Locale.ROOT);
        if (chip == null || chips.chip(chip).isEmpty()) {
            throw ApiProblem.badRequest("unknown-chip", "Unknown chip",
                    "chip '" + n.chip() + "' is not in the catalog; known chips: " + chipIds()).with("chips", chipIds());
        }
        String target = normalizeTarget(n.deploymentTarget());
        if (!LAYOUTS.contains(n.layout())) {
            throw invalid("layout '" + n.layout() + "' must be one of " + LAYOUTS);
        }
        PrecisionFields p = PrecisionFields.of(n.precision(), n.blockSize(), n.quantization());
        Precision scheme = Precision.ofRegistry(p.precision(), p.blockSize(), p.quantization());
        Target needed = scheme.minimumTarget(); // the converter's own rule (VariantSpec), not a copy of its table
        if (OsVersion.parse(target).major() < needed.iosMajor()) {
            throw invalid("deploymentTarget " + target + " is older than precision " + p.describe() + " runs on: it needs "
                    + needed.os() + " (Core ML " + needed.opset() + " ops) or newer; declare deploymentTarget "
                    + needed.iosMajor() + ".0 or later");
        }
        if (n.seqLen() == null) throw invalid("seqLen is required: the variant's static sequence length");
        String seqProblem = VariantSpec.seqLenProblem(n.seqLen());
        if (seqProblem != null) {
            throw invalid("seqLen: " + seqProblem + "; declare the length the package was converted for ("
                    + VariantSpec.MIN_SEQ_LEN + ".." + VariantSpec.MAX_SEQ_LEN + ")");
        }
        String digest = n.digest() == null ? "" : n.digest();
        if (!digest.startsWith("sha256:")) throw invalid("digest '" + digest + "' must look like sha256:<64 hex>");
        String hex = Blobs.requireHex(digest.substring(7));
        Blob blob = blobs.find(hex).orElseThrow(() -> ApiProblem.unprocessable("blob-not-found", "Blob not found",
                "blob " + digest + " has not been uploaded; PUT /api/v1/blobs/" + digest + " first"));
        PackageFacts facts = archive.validate(blob);
        crossCheck(facts, digest, n, target, scheme);
        sameInterface(v, facts, digest);
        try {
            long id = jdbc.sql("INSERT INTO variant (version_id, chip, deployment_target, layout, precision, block_size,"
                            + " quantization, seq_len, blob_digest, size, status, created_by, interface_signature)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'available', ?, ?) RETURNING id")
                    .params(v.id(), chip, target, n.layout(), p.precision(), p.blockSize(), p.quantization(), n.seqLen(),
                            hex, blob.size(), caller.name(), facts.interfaceSignature())
                    .query(Long.class).single();
            events.publishEvent(new RegistryChanged(model));
            // Listeners run in this transaction: the variant and its jobs commit (or fail) together.
            events.publishEvent(new VariantRegistered(id, v.id(), model, version, chip, n.computeUnits()));
            return get(id);
        } catch (DuplicateKeyException e) {
            throw ApiProblem.conflict("variant-exists", "Variant exists",
                    "version " + version + " of '" + model + "' already has a variant for " + chip + " " + target
                            + " " + n.layout() + " " + p.describe() + " seq " + n.seqLen());
        }
    }

    /**
     * Every variant of a version has the same inputs and outputs (names and element types): an app resolves the
     * version on each device and codes against one interface, so a package converted another way (a task head against
     * --head none, with or without token_type_ids) in the same version would break it on some devices only
     * (review-s21). Variants registered before V28 have no signature and are not compared.
     */
    private void sameInterface(VersionRef v, PackageFacts facts, String digest) {
        record Other(String chip, String signature) {}
        jdbc.sql("SELECT chip, interface_signature FROM variant WHERE version_id = ? AND interface_signature IS NOT NULL"
                        + " ORDER BY id LIMIT 1")
                .param(v.id())
                .query((rs, i) -> new Other(rs.getString(1), rs.getString(2)))
                .optional()
                .filter(o -> !o.signature().equals(facts.interfaceSignature()))
                .ifPresent(o -> {
                    throw ApiProblem.unprocessable("variant-interface-mismatch", "Variant interface mismatch",
                                    "package " + digest + " has " + facts.interfaceSignature() + ", but the variants of version "
                                            + v.version() + " of '" + v.model() + "' (e.g. " + o.chip() + ") have "
                                            + o.signature() + ": an app resolving the version would get another interface on"
                                            + " some devices; upload a package converted the same way (the same --head and"
                                            + " --token-types), or put this one in a new version")
                            .with("field", "digest");
                });
    }

    /**
     * The declared facts against what the package says about itself: its Core ML specification version must load
     * on the declared deployment target, its first input must be {@code [1, seqLen]} (or {@code [1, seqLen, ...]}),
     * and where the converter wrote its build id ({@code aneforge.build} metadata) or, older, its variant id
     * ({@code aneforge.variant}: the chip, then the build id), layout and precision must be that id's. No chip is
     * checked: the chip changes nothing in the program, so variants that differ only in the chip share a package,
     * and any chip may register it. A package from elsewhere carries no id: layout and precision are taken as
     * declared.
     */
    private static void crossCheck(PackageFacts f, String digest, NewVariant n, String target, Precision scheme) {
        if (OsVersion.parse(target).major() < f.target().iosMajor()) {
            throw mismatch(digest, "deploymentTarget", "deploymentTarget " + target + " is older than the package's Core ML"
                    + " specification version " + f.target().specificationVersion() + " (" + f.target().os()
                    + "), which older systems cannot load; declare " + f.target().iosMajor() + ".0 or later");
        }
        List<Long> shape = f.firstInputShape();
        if (shape.size() < 2) {
            throw mismatch(digest, "seqLen", "the package's first input '" + f.firstInput() + "' has shape " + shape
                    + ", no sequence dimension: a variant's first input is [1, seqLen] (input_ids); convert the model again");
        }
        if (shape.get(1) != n.seqLen().longValue()) {
            throw mismatch(digest, "seqLen", "seqLen " + n.seqLen() + " contradicts the package: its input '"
                    + f.firstInput() + "' has shape " + shape + ", a sequence of " + shape.get(1) + "; declare seqLen "
                    + shape.get(1) + " or upload the package built for " + n.seqLen());
        }
        // The converter names the build (aneforge.build); older converters named the variant (aneforge.variant: the chip,
        // then the build id). The chip never changed the program, so neither is held to a chip: a worker that resumes a
        // conversion begun by an older worker registers that worker's package for the other chips too (review-s21).
        String id;
        String build;
        if (f.buildId() != null) {
            id = f.buildId();
            build = id;
        } else if (f.variantId() != null) {
            id = f.variantId();
            int dash = id.indexOf('-');
            if (dash < 0) return; // not an id this converter writes
            build = id.substring(dash + 1);
        } else {
            return;
        }
        String[] layoutAndPrecision = parseBuild(build);
        if (layoutAndPrecision == null) return; // not an id this converter writes
        String layout = layoutAndPrecision[0];
        String precision = layoutAndPrecision[1];
        if (!layout.equals(n.layout())) {
            throw mismatch(digest, "layout", "layout " + n.layout() + " contradicts the package, converted with layout "
                    + layout + " (" + id + ")");
        }
        Precision built;
        try {
            built = Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            return; // an id from another converter version: nothing to compare with
        }
        if (!built.equals(scheme)) {
            throw mismatch(digest, "precision", "precision " + scheme.id() + " contradicts the package, converted at "
                    + built.id() + " (" + id + "); declare precision " + built.id());
        }
    }

    /**
     * The layout and precision of a build id ({@code ios18-ane-int8-block32-s128}, optionally {@code -c512}), or null
     * when it is not one this converter writes.
     */
    private static String[] parseBuild(String build) {
        String[] parts = build.split("-");
        int last = parts.length - 1;
        if (parts.length >= 4 && parts[last].matches("c\\d+")) last--;
        if (parts.length < 4 || last < 3 || !parts[last].matches("s\\d+") || !parts[0].matches("ios\\d+")) return null;
        return new String[] {parts[1], String.join("-", java.util.Arrays.copyOfRange(parts, 2, last))};
    }

    private static ApiProblem mismatch(String digest, String field, String detail) {
        return ApiProblem.unprocessable("variant-contradicts-package", "Variant contradicts its package",
                "blob " + digest + ": " + detail).with("field", field);
    }

    private List<String> chipIds() {
        return chips.chips().stream().map(c -> c.id()).toList();
    }

    private static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("invalid-variant", "Invalid variant", detail);
    }

    /** Deployment targets are stored as MAJOR.MINOR in iOS numbering. */
    static String normalizeTarget(String t) {
        try {
            OsVersion v = OsVersion.parse(t);
            return v.major() + "." + v.minor();
        } catch (IllegalArgumentException e) {
            throw invalid("deploymentTarget: " + e.getMessage() + " in iOS numbering (macOS 15 = 18.0)");
        }
    }

    private static final String SELECT = "SELECT id, chip, deployment_target, layout, precision, block_size, seq_len,"
            + " blob_digest, size, status, yank_reason, quantization FROM variant";

    public VariantView get(long id) {
        return jdbc.sql(SELECT + " WHERE id = ?").param(id).query(Variants::row).single();
    }

    public List<VariantView> list(String model, int version) {
        models.version(model, version);
        return jdbc.sql(SELECT + " WHERE version_id = (SELECT v.id FROM model_version v JOIN model m ON m.id = v.model_id"
                        + " WHERE m.name = ? AND v.version = ?) ORDER BY id")
                .params(model, version).query(Variants::row).list();
    }

    /** @return the variant, and whether this call yanked it (false: it was yanked already, nothing changed) */
    @Transactional
    public Audit.Outcome<VariantView> yank(String model, int version, long variantId, String reason) {
        Models.requireReason(reason);
        VersionRef v = models.lockVersion(model, version);
        VariantView current = jdbc.sql(SELECT + " WHERE id = ? AND version_id = ?").params(variantId, v.id())
                .query(Variants::row).optional()
                .orElseThrow(() -> ApiProblem.notFound("variant-not-found", "Variant not found",
                        "version " + version + " of '" + model + "' has no variant " + variantId));
        if ("yanked".equals(current.status())) return new Audit.Outcome<>(current, false);
        List<String> aliases = jdbc.sql("SELECT name FROM alias WHERE version_id = ? ORDER BY name").param(v.id())
                .query(String.class).list();
        long others = jdbc.sql("SELECT count(*) FROM variant WHERE version_id = ? AND status = 'available' AND id <> ?")
                .params(v.id(), variantId).query(Long.class).single();
        if (!aliases.isEmpty() && others == 0) {
            throw ApiProblem.conflict("version-aliased", "Version is aliased",
                    "variant " + variantId + " is the last available variant of version " + version
                            + ", which alias(es) " + aliases + " point at; move them first").with("aliases", aliases);
        }
        jdbc.sql("UPDATE variant SET status = 'yanked', yank_reason = ? WHERE id = ?").params(reason, variantId).update();
        events.publishEvent(new VariantYanked(variantId, model, version, reason));
        events.publishEvent(new RegistryChanged(model));
        return new Audit.Outcome<>(get(variantId), true);
    }

    private static VariantView row(ResultSet rs, int i) throws SQLException {
        int block = rs.getInt(6);
        Integer blockSize = rs.wasNull() ? null : block;
        return new VariantView(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                blockSize, rs.getString(12), rs.getInt(7), "sha256:" + rs.getString(8), rs.getLong(9), rs.getString(10), rs.getString(11));
    }
}

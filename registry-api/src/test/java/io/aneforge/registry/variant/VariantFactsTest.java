package io.aneforge.registry.variant;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.mil.Target;
import io.aneforge.registry.RegistryTestBase;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A variant's declared facts must agree with the precision's minimum OS (the converter's rule) and with the
 * package it names: its Core ML specification version, its input's sequence length and, where the converter
 * wrote its build or (older) variant id into the package, its layout and precision; never its chip, which changes
 * nothing in the program. Nothing contradicting is stored.
 */
class VariantFactsTest extends RegistryTestBase {

    private Response register(String model, int version, String chip, String target, String layout, String precision,
                              int seqLen, byte[] pkg) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("chip", chip);
        body.put("deploymentTarget", target);
        body.put("layout", layout);
        body.put("precision", precision);
        body.put("seqLen", seqLen);
        body.put("digest", upload(pkg));
        return send("POST", "/api/v1/models/" + model + "/versions/" + version + "/variants", publisher(), body);
    }

    /** Refused with 422 {@code variant-contradicts-package} naming {@code field}. */
    private static void assertContradicts(Response r, String field) {
        assertThat(r.status()).as(r.text()).isEqualTo(422);
        assertThat(r.problem()).isEqualTo("variant-contradicts-package");
        assertThat(r.json().path("field").asString()).isEqualTo(field);
    }

    /** How many variants the version lists. */
    private int variantCount(String model, int version) {
        return get("/api/v1/models/" + model + "/versions/" + version + "/variants", reader()).json().size();
    }

    /** A package as converters before shared builds wrote it: the variant id, chip included, in its metadata. */
    private static byte[] converted(String variantId, Target target, int seqLen) {
        return mlpackage(target, seqLen, Map.of("aneforge.variant", variantId, "aneforge.converter", "io.aneforge.graph"));
    }

    @Test
    void aDeploymentTargetBelowThePrecisionsMinimumIsRefused() {
        int v = createModelAndVersion("facts-os");
        byte[] pkg = converted("a17_pro-ios18-ane-int8-block32-s128", Target.IOS18, 128);
        Response r = register("facts-os", v, "A17_PRO", "15.0", "ane", "int8-block32", 128, pkg);
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("invalid-variant");
        assertThat(r.json().path("detail").asString()).isEqualTo("deploymentTarget 15.0 is older than precision int8-block32"
                + " runs on: it needs iOS 18 / macOS 15 (Core ML CoreML8 ops) or newer; declare deploymentTarget 18.0 or later");
        Response w8a8 = register("facts-os", v, "A17_PRO", "16.4", "ane", "w8a8", 128, mlpackage("facts-w8a8"));
        assertThat(w8a8.status()).as(w8a8.text()).isEqualTo(400);
        assertThat(w8a8.json().path("detail").asString()).contains("needs iOS 17 / macOS 14").contains("declare deploymentTarget 17.0");
        assertThat(variantCount("facts-os", v)).isZero();

        Response ok = register("facts-os", v, "A17_PRO", "18.0", "ane", "int8-block32", 128, pkg);
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
    }

    @Test
    void factsContradictingThePackageAreRefused() {
        int v = createModelAndVersion("facts-pkg");
        // the review's repro: an ane int8-block32 iOS 18 seq-128 package declared as standard int4 iOS 15 seq 4096
        byte[] pkg = converted("a17_pro-ios18-ane-int8-block32-s128", Target.IOS18, 128);
        Response seq = register("facts-pkg", v, "A17_PRO", "18.0", "ane", "int8-block32", 4096, pkg);
        assertContradicts(seq, "seqLen");
        assertThat(seq.json().path("detail").asString()).endsWith(": seqLen 4096 contradicts the package: its input"
                + " 'input_ids' has shape [1, 128], a sequence of 128; declare seqLen 128 or upload the package built for 4096");

        assertContradicts(register("facts-pkg", v, "A17_PRO", "18.0", "standard", "int8-block32", 128, pkg), "layout");

        Response precision = register("facts-pkg", v, "A17_PRO", "18.0", "ane", "int4-block32", 128, pkg);
        assertThat(precision.status()).as(precision.text()).isEqualTo(422);
        assertThat(precision.json().path("detail").asString()).endsWith("precision int4-block32 contradicts the package,"
                + " converted at int8-block32 (a17_pro-ios18-ane-int8-block32-s128); declare precision int8-block32");

        // a package whose Core ML specification version is iOS 18's, declared for iOS 17 (fp16 itself runs on 15)
        Response os = register("facts-pkg", v, "A17_PRO", "17.0", "ane", "fp16", 128, mlpackage(Target.IOS18, 128, Map.of()));
        assertContradicts(os, "deploymentTarget");
        assertThat(os.json().path("detail").asString()).contains("older than the package's Core ML specification version 9"
                + " (iOS 18 / macOS 15)").endsWith("declare 18.0 or later");

        assertThat(variantCount("facts-pkg", v)).isZero();
        // a newer deployment target than the package's is fine: it only serves fewer devices
        Response ok = register("facts-pkg", v, "A17_PRO", "26.0", "ane", "int8-block32", 128, pkg);
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        // the chip in an older package's variant id is not held against another chip: the chip changes nothing in
        // the program, and a worker resuming a conversion an older worker began registers that package for the
        // other chips (review-s21)
        Response otherChip = register("facts-pkg", v, "M4", "18.0", "ane", "int8-block32", 128, pkg);
        assertThat(otherChip.status()).as(otherChip.text()).isEqualTo(201);
    }

    @Test
    void aPackageNamingItsBuildRegistersForEveryChipAndItsLayoutAndPrecisionAreStillChecked() {
        int v = createModelAndVersion("facts-build");
        // what the converter writes now: the build id, no chip (variants for several chips share the package)
        byte[] pkg = mlpackage(Target.IOS18, 128, Map.of("aneforge.build", "ios18-ane-int8-block32-s128",
                "aneforge.converter", "io.aneforge.graph"));
        assertContradicts(register("facts-build", v, "A17_PRO", "18.0", "standard", "int8-block32", 128, pkg), "layout");
        Response precision = register("facts-build", v, "A17_PRO", "18.0", "ane", "int4-block32", 128, pkg);
        assertThat(precision.status()).as(precision.text()).isEqualTo(422);
        assertThat(precision.json().path("detail").asString()).endsWith("precision int4-block32 contradicts the package,"
                + " converted at int8-block32 (ios18-ane-int8-block32-s128); declare precision int8-block32");

        Response a17 = register("facts-build", v, "A17_PRO", "18.0", "ane", "int8-block32", 128, pkg);
        assertThat(a17.status()).as(a17.text()).isEqualTo(201);
        Response m4 = register("facts-build", v, "M4", "18.0", "ane", "int8-block32", 128, pkg);
        assertThat(m4.status()).as(m4.text()).isEqualTo(201);
        assertThat(m4.json().path("digest").asString()).isEqualTo(a17.json().path("digest").asString());
        assertThat(variantCount("facts-build", v)).isEqualTo(2);
    }

    @Test
    void aModelThatIsNotACoreMlModelIsRefused() {
        int v = createModelAndVersion("facts-garbage");
        byte[] real = mlpackage("facts-garbage");
        String manifest;
        try (var in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(real))) {
            java.util.zip.ZipEntry e;
            do {
                e = in.getNextEntry();
            } while (!e.getName().endsWith("Manifest.json"));
            manifest = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] garbage = zip("x.mlpackage/Manifest.json", manifest, "x.mlpackage/Data/com.apple.CoreML/model.mlmodel", "garbage");
        Response r = register("facts-garbage", v, "A16", "17.0", "ane", "fp16", 128, garbage);
        assertThat(r.status()).as(r.text()).isEqualTo(422);
        assertThat(r.problem()).isEqualTo("invalid-mlpackage");
        assertThat(r.json().path("detail").asString()).contains(": x.mlpackage/Data/com.apple.CoreML/model.mlmodel is not a"
                + " Core ML model: ").endsWith("; convert the model again");
        assertThat(variantCount("facts-garbage", v)).isZero();
    }

    private static byte[] packageWithOutput(String output, int seqLen) {
        return mlpackage(Target.IOS15, seqLen, Map.of(), output);
    }

    /**
     * review-s21: every variant of a version has the same inputs and outputs, so an app codes against one interface
     * on every device; a package converted another way (another output, as a task head's beside --head none) goes in
     * a new version. The sequence length may differ (a variant's own fact).
     */
    @Test
    void aVersionsVariantsShareOneInterface() throws Exception {
        int v = createModelAndVersion("facts-interface");
        assertThat(register("facts-interface", v, "M4", "18.0", "ane", "fp16", 128, mlpackage("facts-interface-a", 128))
                .status()).isEqualTo(201);
        assertThat(register("facts-interface", v, "M2", "18.0", "ane", "fp16", 256, mlpackage("facts-interface-b", 256))
                .status()).as("another sequence length, same interface").isEqualTo(201);
        Response other = register("facts-interface", v, "A17_PRO", "18.0", "ane", "fp16", 128, packageWithOutput("logits", 128));
        assertThat(other.status()).as(other.text()).isEqualTo(422);
        assertThat(other.json().path("type").asString()).endsWith("/variant-interface-mismatch");
        assertThat(other.json().path("detail").asString()).contains("outputs logits:FLOAT32")
                .contains("outputs out:FLOAT32").contains("(e.g. M4)").contains("new version");
        assertThat(variantCount("facts-interface", v)).isEqualTo(2);
        int next = createVersion("facts-interface");
        assertThat(register("facts-interface", next, "A17_PRO", "18.0", "ane", "fp16", 128, packageWithOutput("logits", 128))
                .status()).as("a new version takes it").isEqualTo(201);
    }
}

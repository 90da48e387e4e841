package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.graph.WeightCache;
import io.aneforge.mil.Constant;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mlpackage.Manifest;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write path (weight.bin written in one hashing pass, the archive taking the CRC-32 from it) produces
 * the same bytes as before it was rewritten: archive sha256 of the tiny BERT's variants pinned to the
 * values the previous writer (tensor by tensor, then re-reading the file for sha256 and CRC-32) produced.
 */
class ArchiveIdentityTest {
    static final int SEQ = 16;

    /** Archive sha256 per variant id, from the writer before the single-pass rewrite (commit 40d3918). */
    static final Map<String, String> PINNED = new LinkedHashMap<>();

    static {
        PINNED.put("m4-ios16-ane-fp16-s16",
                "2e4d0d22eaaf9ab909d7b880e403f0aaf67abaa3427a01a18bf47d4558245188");
        PINNED.put("m4-ios16-standard-fp16-s16",
                "cd86feaf680b890e00df431bed7b7ab741e4171840165a7eb2e258fcdfc13aa7");
        PINNED.put("m4-ios18-ane-int8-block32-s16",
                "23efadc15db1a10b3f75b0fffc3a898de2a0329a4ef23e5218138702e50ad4d1");
        PINNED.put("m4-ios18-standard-int4-block32-s16",
                "cc4e550ecc99c762f201c4a767128e4b962f9cf6e99647bf3e9975c4856de3e6");
        PINNED.put("m4-ios16-ane-int8-channel-s16",
                "88c06d792bca5f7c91d63271583c41fdc3ccc7d485428cf02d561c4d58dfa795");
        PINNED.put("m4-ios16-standard-fp32-s16",
                "14c62d27d25380e11f12877b49128ef260983b284c52dc9e797d1170f4710d21");
    }

    @TempDir
    Path dir;

    @Test
    void archivesAreTheBytesThePreviousWriterProduced() throws Exception {
        assertThat(convertAll("alone", null)).isEqualTo(PINNED);
    }

    @Test
    void variantsSharingEncodedWeightsGiveTheSameBytes() throws Exception {
        // sequentially through one cache, then in parallel through another (variants wait for each other's encodings)
        assertThat(convertAll("shared", WeightCache.create())).isEqualTo(PINNED);
        WeightCache cache = WeightCache.create();
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.bert(dir.resolve("bert-p"), 11), null));
        Map<String, String> parallel = new java.util.concurrent.ConcurrentHashMap<>();
        PINNED.keySet().parallelStream().forEach(id -> parallel.put(id, VariantConverter.convert(model, spec(id),
                dir.resolve("parallel").resolve(id).resolve("v.mlpackage"), null, cache).archiveSha256()));
        assertThat(parallel).isEqualTo(PINNED);

        // the ane and standard fp16 programs hold the very same arrays for their weights: encoded once
        WeightCache one = WeightCache.create();
        Program ane = VariantConverter.build(model, spec("m4-ios16-ane-fp16-s16"), one).program();
        Program standard = VariantConverter.build(model, spec("m4-ios16-standard-fp16-s16"), one).program();
        Set<byte[]> aneArrays = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        constants(ane).forEach(c -> aneArrays.add(c.raw()));
        long big = constants(standard).stream().filter(c -> c.raw().length > 4096).count();
        assertThat(big).isPositive();
        assertThat(constants(standard).stream().filter(c -> c.raw().length > 4096).filter(c -> aneArrays.contains(c.raw())))
                .hasSize((int) big);
    }

    private Map<String, String> convertAll(String run, WeightCache cache) throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.bert(dir.resolve("bert-" + run), 11), null));
        Map<String, String> got = new LinkedHashMap<>();
        for (String id : PINNED.keySet()) {
            VariantSpec spec = spec(id);
            assertThat(spec.id()).isEqualTo(id);
            Path pkg = dir.resolve(run).resolve(id).resolve("v.mlpackage");
            Path zip = dir.resolve(run).resolve(id + ".zip");
            ConvertedVariant cv = cache == null ? VariantConverter.convert(model, spec, pkg, zip)
                    : VariantConverter.convert(model, spec, pkg, zip, cache);
            got.put(id, cv.archiveSha256());
            assertThat(sha256(Files.readAllBytes(zip))).isEqualTo(cv.archiveSha256());

            // The manifest's weight digest is the file's, and zipping from the file alone gives the same archive.
            byte[] weights = Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/weights/weight.bin"));
            byte[] mlmodel = Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/model.mlmodel"));
            assertThat(Files.readString(pkg.resolve(MlPackage.MANIFEST)))
                    .isEqualTo(Manifest.forProgram(sha256(mlmodel), sha256(weights)).toJson());
            ByteArrayOutputStream fromFiles = new ByteArrayOutputStream();
            PackageArchive.zip(pkg, fromFiles);
            assertThat(sha256(fromFiles.toByteArray())).isEqualTo(cv.archiveSha256());
        }
        return got;
    }

    @Test
    void writeResultCarriesTheDigestsOfTheWrittenWeightFile() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.bert(dir.resolve("bert"), 11), null));
        Path pkg = dir.resolve("p.mlpackage");
        MlPackage.WriteResult r = MlPackage.write(VariantConverter.build(model, spec("m4-ios18-ane-int8-block32-s16")).program(), pkg);
        byte[] weights = Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/weights/weight.bin"));
        CRC32 crc = new CRC32();
        crc.update(weights);
        assertThat(r.weightSha256()).isEqualTo(sha256(weights));
        assertThat(r.weightCrc32()).isEqualTo(crc.getValue());
        assertThat(r.weightBytes()).isEqualTo(weights.length);
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PackageArchive.zip(r, a);
        PackageArchive.zip(pkg, b);
        assertThat(a.toByteArray()).isEqualTo(b.toByteArray());
    }

    /** Every constant of a program: op attributes (const values) and constant inputs (constexpr ops). */
    private static java.util.List<Constant> constants(Program p) {
        java.util.List<Constant> out = new java.util.ArrayList<>();
        for (Operation op : p.operations()) {
            out.addAll(op.attributes().values());
            op.inputs().values().forEach(args -> args.stream().filter(a -> a instanceof Constant).forEach(a -> out.add((Constant) a)));
        }
        return out.stream().filter(c -> c.raw() != null).toList();
    }

    private static VariantSpec spec(String id) {
        String[] p = id.split("-");
        Target t = Target.valueOf(p[1].toUpperCase());
        Layout l = p[2].equals("ane") ? Layout.ANE : Layout.STANDARD;
        String precision = id.substring(id.indexOf(p[2]) + p[2].length() + 1, id.lastIndexOf("-s"));
        return new VariantSpec("M4", t, l, Precision.parse(precision), SEQ, 0);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}

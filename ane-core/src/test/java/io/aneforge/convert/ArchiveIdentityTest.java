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
 * The write path (weight.bin written in one pass that computes its CRC-32, the archive zipped from the
 * arrays the files were written from) produces pinned bytes: archive sha256 of the tiny BERT's variants.
 * The pins were first taken from the writer before the single-pass rewrite (commit 40d3918, tensor by
 * tensor, then re-reading the file); they changed once since, on purpose, when the manifest's weights
 * id stopped coming from a sha256 of weight.bin (Manifest.forProgram): model.mlmodel and weight.bin
 * kept their bytes, only Manifest.json's weights id changed; and once more when the package stopped naming its
 * chip (metadata {@code aneforge.build} = the build id instead of {@code aneforge.variant} = the variant id, so
 * variants for several chips share one package): only model.mlmodel's metadata changed.
 */
class ArchiveIdentityTest {
    static final int SEQ = 16;

    /** Archive sha256 per variant id (see the class comment for where they come from). */
    static final Map<String, String> PINNED = new LinkedHashMap<>();

    static {
        PINNED.put("m4-ios16-ane-fp16-s16",
                "1b5315c738315a49ba6dd1d0635a612013fdee3fef125c28e7c19bef235ef8d9");
        PINNED.put("m4-ios16-standard-fp16-s16",
                "647b6c7701f64801a80b02ad7efbd8b73416a061d631308077fed9f6b75a7efe");
        PINNED.put("m4-ios18-ane-int8-block32-s16",
                "7d8213475a7d3d8f92ee4d32893fcad0ba4049244d16e802ffade421d0c9a362");
        PINNED.put("m4-ios18-standard-int4-block32-s16",
                "c58608092ef5ff9fd88a2de105cac5a364dabeffbd9e85efb5f4ab6337e38df3");
        PINNED.put("m4-ios16-ane-int8-channel-s16",
                "fdfd1fcfea2add9897c06c23396bd08767aa52f1a5614ca36ca5c5eb86c3f3f6");
        PINNED.put("m4-ios16-standard-fp32-s16",
                "d167d575fa3be34498d209ac12b59e7eb46588608799dbce625070c4fe147f37");
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

            // The manifest's ids come from the files as written, and zipping the files alone gives the same archive.
            byte[] weights = Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/weights/weight.bin"));
            byte[] mlmodel = Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/model.mlmodel"));
            CRC32 crc = new CRC32();
            crc.update(weights);
            assertThat(Files.readString(pkg.resolve(MlPackage.MANIFEST)))
                    .isEqualTo(Manifest.forProgram(sha256(mlmodel), weights.length, crc.getValue()).toJson());
            ByteArrayOutputStream fromFiles = new ByteArrayOutputStream();
            PackageArchive.zip(pkg, fromFiles);
            assertThat(sha256(fromFiles.toByteArray())).isEqualTo(cv.archiveSha256());
        }
        return got;
    }

    @Test
    void theChipIsNotInThePackageSoVariantsThatDifferOnlyInTheChipHaveTheSameBytes() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.bert(dir.resolve("bert-chips"), 11), null));
        VariantSpec m4 = spec("m4-ios18-ane-int8-block32-s16");
        VariantSpec a17 = new VariantSpec("A17_PRO", m4.target(), m4.layout(), m4.precision(), m4.seqLen(), m4.attentionChunk());
        // (the archive holds the package under its directory name, so both are written as v.mlpackage, as PINNED's are)
        ConvertedVariant a = VariantConverter.convert(model, m4, dir.resolve("chips/m4/v.mlpackage"), null);
        ConvertedVariant b = VariantConverter.convert(model, a17, dir.resolve("chips/a17/v.mlpackage"), null);
        assertThat(a17.buildId()).isEqualTo(m4.buildId()).isEqualTo("ios18-ane-int8-block32-s16");
        assertThat(b.archiveSha256()).isEqualTo(a.archiveSha256()).isEqualTo(PINNED.get(m4.id()));
        assertThat(MlPackage.read(a.packageDir()).metadata())
                .containsEntry(io.aneforge.graph.Graphs.BUILD_METADATA, "ios18-ane-int8-block32-s16")
                .doesNotContainKey(io.aneforge.graph.Graphs.VARIANT_METADATA);

        // what is in the build id does change the bytes: another deployment target is another package
        VariantSpec ios26 = new VariantSpec("M4", Target.IOS26, m4.layout(), m4.precision(), m4.seqLen(), m4.attentionChunk());
        assertThat(ios26.buildId()).isNotEqualTo(m4.buildId());
        assertThat(VariantConverter.convert(model, ios26, dir.resolve("chips/ios26/v.mlpackage"), null).archiveSha256())
                .isNotEqualTo(a.archiveSha256());
    }

    @Test
    void writeResultCarriesTheDigestsAndTheArchiveIsTheWrittenFilesZipped() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.bert(dir.resolve("bert"), 11), null));
        Path pkg = dir.resolve("p.mlpackage");
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        MlPackage.WriteResult r = MlPackage.write(VariantConverter.build(model, spec("m4-ios18-ane-int8-block32-s16")).program(), pkg, a);
        byte[] weights = Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/weights/weight.bin"));
        byte[] mlmodel = Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/model.mlmodel"));
        CRC32 crc = new CRC32();
        crc.update(weights);
        assertThat(r.weightCrc32()).isEqualTo(crc.getValue());
        assertThat(r.weightBytes()).isEqualTo(weights.length);
        assertThat(r.modelSha256()).isEqualTo(sha256(mlmodel));
        // the archive written from memory holds exactly the files on disk
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PackageArchive.zip(pkg, b);
        assertThat(a.toByteArray()).isEqualTo(b.toByteArray());
        Path unpacked = dir.resolve("unpacked");
        PackageArchive.unzip(new java.io.ByteArrayInputStream(a.toByteArray()), unpacked, PackageArchive.Limits.defaults());
        assertThat(Files.readAllBytes(unpacked.resolve("p.mlpackage/Data/com.apple.CoreML/weights/weight.bin"))).isEqualTo(weights);
    }

    @Test
    void aPackageThatCannotBeWrittenLeavesNoArchive() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.bert(dir.resolve("bert"), 11), null));
        Path pkg = Files.createDirectories(dir.resolve("busy.mlpackage"));
        Files.writeString(pkg.resolve("someone-elses-file"), "x"); // MlPackage.write refuses a non-empty directory
        Path zip = dir.resolve("out").resolve("busy.zip");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VariantConverter.convert(model, spec("m4-ios16-ane-fp16-s16"), pkg, zip))
                .isInstanceOf(ConversionException.class).hasMessageContaining("is not empty");
        assertThat(zip).doesNotExist();
        assertThat(pkg.resolve("someone-elses-file")).hasContent("x");
    }

    @Test
    void weightsWithTheSameProgramButOtherValuesGetAnotherManifestId() {
        Manifest m = Manifest.forProgram("ab", 1000, 0x1234L);
        assertThat(Manifest.forProgram("ab", 1000, 0x1235L).weights()).isEqualTo(m.weights());
        assertThat(Manifest.forProgram("ab", 1000, 0x1235L).items().keySet()).isNotEqualTo(m.items().keySet());
        assertThat(Manifest.forProgram("ab", 1001, 0x1234L).items().keySet()).isNotEqualTo(m.items().keySet());
        assertThat(Manifest.forProgram("ab", 1000, 0x1234L).items().keySet()).isEqualTo(m.items().keySet());
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

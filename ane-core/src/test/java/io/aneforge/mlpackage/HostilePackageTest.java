package io.aneforge.mlpackage;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.proto.Block;
import io.aneforge.mlpackage.proto.Dimension;
import io.aneforge.mlpackage.proto.Function;
import io.aneforge.mlpackage.proto.Model;
import io.aneforge.mlpackage.proto.NamedValueType;
import io.aneforge.mlpackage.proto.Operation;
import io.aneforge.mlpackage.proto.TensorType;
import io.aneforge.mlpackage.proto.Value;
import io.aneforge.mlpackage.proto.ValueType;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.ReferenceRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Packages made to hurt the reader (an upload to the registry, a download): every one is refused with an
 * {@link MlPackageException} (a RuntimeException) naming the file and the rule, never read outside the package,
 * and never allowed to run the JVM out of memory.
 */
class HostilePackageTest {

    @TempDir
    Path tmp;

    /** x[1, 16] times a 16 x 16 weight whose values start at {@code first}: one blob. */
    static Program small(float first) {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 1, 16);
        float[] w = new float[256];
        for (int i = 0; i < w.length; i++) {
            w[i] = first + i;
        }
        Var wv = b.constant("w", Constant.fp32(w, 16, 16));
        return b.build(b.matmul(x, wv, false, false));
    }

    private Path write(String name, float first) {
        Path p = tmp.resolve(name + ".mlpackage");
        MlPackage.write(small(first), p);
        return p;
    }

    private static Path modelFile(Path pkg) {
        return pkg.resolve("Data/com.apple.CoreML/model.mlmodel");
    }

    private static Path weightFile(Path pkg) {
        return pkg.resolve("Data/com.apple.CoreML/weights/weight.bin");
    }

    /** Rewrites the manifest with item {@code name}'s path replaced. */
    private static void setItemPath(Path pkg, String name, String path) throws Exception {
        Manifest m = MlPackage.readManifest(pkg);
        Map<String, Manifest.Item> items = new HashMap<>();
        m.items().forEach((id, i) -> items.put(id, i.name().equals(name)
                ? new Manifest.Item(i.author(), i.description(), i.name(), path) : i));
        Files.writeString(pkg.resolve(MlPackage.MANIFEST), new Manifest(m.rootModelIdentifier(), items).toJson());
    }

    /** Rewrites model.mlmodel with {@code edit} applied to the main function. */
    private static void editMain(Path pkg, UnaryOperator<Function> edit) throws Exception {
        Model m = Model.parseFrom(Files.readAllBytes(modelFile(pkg)));
        Function fn = edit.apply(m.getMlProgram().getFunctionsMap().get(ProgramCodec.MAIN));
        Model edited = m.toBuilder().setMlProgram(m.getMlProgram().toBuilder().putFunctions(ProgramCodec.MAIN, fn)).build();
        Files.write(modelFile(pkg), MlPackage.serialize(edited));
    }

    private static ValueType tensorOf(ValueType type, long... dims) {
        TensorType.Builder t = type.getTensorType().toBuilder().clearDimensions().setRank(dims.length);
        for (long d : dims) {
            t.addDimensions(Dimension.newBuilder().setConstant(Dimension.ConstantDimension.newBuilder().setSize(d)));
        }
        return type.toBuilder().setTensorType(t).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/dev/zero", "../../../../../../../../dev/zero", "com.apple.CoreML/../../Manifest.json", ""})
    void aModelPathOutsideDataIsRefused(String path) throws Exception {
        Path pkg = write("p", 0);
        setItemPath(pkg, Manifest.MODEL_NAME, path);
        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                .hasMessage(pkg + ": Manifest.json: item 'model.mlmodel' has path '" + path + "', which is not inside the"
                        + " package's Data/ folder: item paths are relative to Data/, like com.apple.CoreML/model.mlmodel");
    }

    @Test
    void weightsOfAnotherPackageAreNotLoaded() throws Exception {
        Path mine = write("mine", 0);
        write("other", 1000);
        setItemPath(mine, Manifest.WEIGHTS_NAME, "../../other.mlpackage/Data/com.apple.CoreML/weights");
        assertThatThrownBy(() -> MlPackage.read(mine)).isInstanceOf(MlPackageException.class)
                .hasMessageContaining("item 'weights' has path '../../other.mlpackage/Data/com.apple.CoreML/weights',"
                        + " which is not inside the package's Data/ folder");
    }

    @Test
    void symbolicLinksLeavingThePackageAreRefused() throws Exception {
        Path pkg = write("p", 0);
        Files.delete(modelFile(pkg));
        Files.createSymbolicLink(modelFile(pkg), Path.of("/dev/zero"));
        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                .hasMessage(pkg + ": Data/com.apple.CoreML/model.mlmodel is a symbolic link to /dev/zero, outside the package:"
                        + " a package holds its own files (copy them in)");

        Path mine = write("mine", 0);
        Path other = write("other", 1000);
        Files.delete(weightFile(mine));
        Files.createSymbolicLink(weightFile(mine), weightFile(other).toAbsolutePath());
        assertThatThrownBy(() -> MlPackage.read(mine)).isInstanceOf(MlPackageException.class)
                .hasMessageContaining("Data/com.apple.CoreML/weights/weight.bin is a symbolic link to " + weightFile(other).toRealPath()
                        + ", outside the package");

        // A link that stays inside the package is only a link.
        Path linked = write("linked", 0);
        Files.move(modelFile(linked), linked.resolve("Data/elsewhere.mlmodel"));
        Files.createSymbolicLink(modelFile(linked), Path.of("../elsewhere.mlmodel"));
        assertThat(MlPackage.read(linked).operations()).hasSize(small(0).operations().size());
    }

    @Test
    void filesThatAreNotRegularAreRefused() throws Exception {
        Path pkg = write("p", 0);
        Files.delete(modelFile(pkg));
        Files.createDirectory(modelFile(pkg));
        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                // the package's own content, though the refusal's cause (BoundedFiles.Refused) is an IOException
                .satisfies(e -> assertThat(((MlPackageException) e).kind()).isEqualTo(MlPackageException.Kind.CONTENT))
                .hasMessage(pkg + ": Data/com.apple.CoreML/model.mlmodel is not a regular file: a package holds its model as a file");

        Path weights = write("w", 0);
        Files.delete(weightFile(weights));
        Files.createDirectory(weightFile(weights));
        assertThatThrownBy(() -> MlPackage.read(weights)).isInstanceOf(MlPackageException.class)
                .hasMessage(weights + ": Data/com.apple.CoreML/weights/weight.bin is not a regular file: a package holds its weights as a file");
    }

    @Test
    void anOversizedModelOrManifestIsRefusedBeforeItIsRead() throws Exception {
        Path pkg = write("p", 0);
        try (RandomAccessFile f = new RandomAccessFile(modelFile(pkg).toFile(), "rw")) {
            f.setLength(MlPackage.MAX_MODEL_BYTES + 1); // sparse: nothing is written
        }
        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                .satisfies(e -> assertThat(((MlPackageException) e).kind()).isEqualTo(MlPackageException.Kind.CONTENT))
                .hasMessageStartingWith(pkg + ": Data/com.apple.CoreML/model.mlmodel is 67108865 bytes, more than the 64 MiB"
                        + " a model.mlmodel may have");

        Path manifest = write("m", 0);
        try (RandomAccessFile f = new RandomAccessFile(manifest.resolve(MlPackage.MANIFEST).toFile(), "rw")) {
            f.setLength(MlPackage.MAX_MANIFEST_BYTES + 1);
        }
        assertThatThrownBy(() -> MlPackage.read(manifest)).isInstanceOf(MlPackageException.class)
                .hasMessageStartingWith(manifest + ": Manifest.json is 1048577 bytes, more than the 1 MiB a manifest may have");
    }

    /** A small zip whose model.mlmodel inflates past the limit (the review's 2.3 MB zip inflated to 2.2 GB): refused unpacking. */
    @Test
    void aZipBombIsRefusedWhenLoaded() throws Exception {
        Path pkg = write("p", 0);
        Path zip = tmp.resolve("bomb.mlpackage.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("p.mlpackage/Manifest.json"));
            z.write(Files.readAllBytes(pkg.resolve(MlPackage.MANIFEST)));
            z.putNextEntry(new ZipEntry("p.mlpackage/Data/com.apple.CoreML/weights/weight.bin"));
            z.write(Files.readAllBytes(weightFile(pkg)));
            z.putNextEntry(new ZipEntry("p.mlpackage/Data/com.apple.CoreML/model.mlmodel"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 65; i++) {
                z.write(zeros);
            }
            z.closeEntry();
        }
        assertThat(Files.size(zip)).isLessThan(1 << 20);
        assertThatThrownBy(() -> new ReferenceRuntime().load(zip, RuntimeOptions.defaults()))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageContaining("entry 'p.mlpackage/Data/com.apple.CoreML/model.mlmodel' is 68157440 bytes, more than the"
                        + " 64 MiB a model.mlmodel may have")
                .satisfies(e -> assertThat(((MlPackageException) e.getCause()).kind()).isEqualTo(MlPackageException.Kind.CONTENT));
    }

    /** A manifest may only name Data/com.apple.CoreML/model.mlmodel as the root model: the reader's rule. */
    @Test
    void aRootModelOfAnotherNameIsRefusedByTheReader() throws Exception {
        Path pkg = write("p", 0);
        Files.move(modelFile(pkg), modelFile(pkg).resolveSibling("model.bin"));
        setItemPath(pkg, Manifest.MODEL_NAME, "com.apple.CoreML/model.bin");

        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                .satisfies(e -> assertThat(((MlPackageException) e).kind()).isEqualTo(MlPackageException.Kind.CONTENT))
                .hasMessage(pkg + ": Manifest.json names 'com.apple.CoreML/model.bin' as the root model, but a Core ML"
                        + " package keeps its model at Data/com.apple.CoreML/model.mlmodel: set the root model item's path to"
                        + " 'com.apple.CoreML/model.mlmodel' with the model file there, or convert the model again");
    }

    /**
     * A zip whose manifest names another file as the root model: only model.mlmodel is held to the reader's 64 MiB
     * while unpacking, so a 128 MiB "model.bin" would have been written out in full before the reader refused it.
     * The manifest (written last, as the archive's sorted order puts it) is read from the zip first and the archive
     * is refused before anything is unpacked, through unzip and through check.
     */
    @Test
    void aZipWhoseManifestNamesAnotherRootModelIsRefusedBeforeUnpacking() throws Exception {
        Path pkg = write("p", 0);
        setItemPath(pkg, Manifest.MODEL_NAME, "com.apple.CoreML/model.bin");
        for (String root : new String[] {"p.mlpackage/", ""}) {
            Path zip = tmp.resolve("renamed" + root.length() + ".zip");
            try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
                z.setLevel(1);
                z.putNextEntry(new ZipEntry(root + "Data/com.apple.CoreML/model.bin"));
                byte[] zeros = new byte[1 << 20];
                for (int i = 0; i < 128; i++) {
                    z.write(zeros);
                }
                z.putNextEntry(new ZipEntry(root + "Data/com.apple.CoreML/weights/weight.bin"));
                z.write(Files.readAllBytes(weightFile(pkg)));
                z.putNextEntry(new ZipEntry(root + "Manifest.json"));
                z.write(Files.readAllBytes(pkg.resolve(MlPackage.MANIFEST)));
            }
            assertThat(Files.size(zip)).isLessThan(1 << 20);
            String refusal = "archive " + zip.getFileName() + " entry '" + root + "Manifest.json' names"
                    + " 'com.apple.CoreML/model.bin' as the root model, but a Core ML package keeps its model at"
                    + " Data/com.apple.CoreML/model.mlmodel: set the root model item's path to 'com.apple.CoreML/model.mlmodel'"
                    + " with the model file there, or convert the model again; refused before anything was unpacked";
            Path out = tmp.resolve("out" + root.length());

            assertThatThrownBy(() -> PackageArchive.unzip(zip, out, PackageArchive.Limits.defaults()))
                    .isInstanceOf(MlPackageException.class)
                    .satisfies(e -> assertThat(((MlPackageException) e).kind()).isEqualTo(MlPackageException.Kind.CONTENT))
                    .hasMessage(refusal);
            try (var files = Files.walk(out)) {
                assertThat(files.filter(Files::isRegularFile).toList()).as("unpacked before the refusal").isEmpty();
            }
            assertThatThrownBy(() -> PackageArchive.check(zip, "archive " + zip.getFileName(), PackageArchive.Limits.defaults()))
                    .hasMessage(refusal);
            assertThatThrownBy(() -> new ReferenceRuntime().load(zip, RuntimeOptions.defaults()))
                    .isInstanceOf(RuntimeLoadException.class).hasMessageContaining("names 'com.apple.CoreML/model.bin' as the root model");
        }

        // the same archive with the manifest as written (the model where it belongs) unpacks and reads
        Path good = write("good", 0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PackageArchive.zip(good, bytes);
        Path goodZip = Files.write(tmp.resolve("good.zip"), bytes.toByteArray());
        assertThat(PackageArchive.unzip(goodZip, tmp.resolve("good-out"), PackageArchive.Limits.defaults())).hasSize(3);
        assertThat(MlPackage.read(tmp.resolve("good-out/good.mlpackage"))).isNotNull();
    }

    /** One entry of a zip made by hand: {@code zerosMiB} MiB of zeros (deflated to almost nothing), or {@code bytes}. */
    private record Part(String name, byte[] bytes, int zerosMiB) {
        static Part of(String name, byte[] bytes) {
            return new Part(name, bytes, 0);
        }

        static Part zeros(String name, int mib) {
            return new Part(name, new byte[0], mib);
        }
    }

    private Path zip(String name, Part... parts) throws Exception {
        Path zip = tmp.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.setLevel(1);
            byte[] mib = new byte[1 << 20];
            for (Part part : parts) {
                z.putNextEntry(new ZipEntry(part.name()));
                z.write(part.bytes());
                for (int i = 0; i < part.zerosMiB(); i++) {
                    z.write(mib);
                }
            }
        }
        return zip;
    }

    private static java.util.List<Path> filesUnder(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return java.util.List.of();
        }
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    private static String manifestWithRootId(String rootIdJson) {
        return """
                {"fileFormatVersion":"1.0.0","rootModelIdentifier":%s,
                 "itemInfoEntries":{
                   "7":{"author":"com.apple.CoreML","description":"CoreML Model Specification","name":"model.mlmodel",
                        "path":"com.apple.CoreML/model.bin"},
                   "W":{"author":"com.apple.CoreML","description":"CoreML Model Weights","name":"weights",
                        "path":"com.apple.CoreML/weights"}}}
                """.formatted(rootIdJson);
    }

    /**
     * rootModelIdentifier is a string. A number (7) used to be read as the id "7" by the reader but as no id by the
     * unzip's look before unpacking, so a 128 MiB model.bin it named unpacked as the model before the reader refused
     * it. Both now read the root model through one function: the reader refuses the number itself, and no file is
     * the model, so model.bin is only a file the manifest does not name (see the next test for those).
     */
    @Test
    void aRootModelIdentifierThatIsNotAStringNamesNoModel() throws Exception {
        for (String id : new String[] {"7", "7.0", "true", "[\"7\"]", "null"}) {
            byte[] json = manifestWithRootId(id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(Manifest.rootModelPath(json)).as(id).isEmpty();
            assertThatThrownBy(() -> Manifest.parse(json, "Manifest.json")).as(id).isInstanceOf(MlPackageException.class)
                    .hasMessage("Manifest.json: rootModelIdentifier is " + id + ", not a string: it must be the id (a string)"
                            + " of one of the item entries [7, W]");
        }
        byte[] missing = manifestWithRootId("0").replace("\"rootModelIdentifier\":0,", "")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Manifest.parse(missing, "Manifest.json")).hasMessageStartingWith(
                "Manifest.json: rootModelIdentifier is missing, not a string");

        // the same manifest with the id as a string: both read model.bin as the root model, and the unzip refuses it
        byte[] named = manifestWithRootId("\"7\"").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(Manifest.rootModelPath(named)).contains("com.apple.CoreML/model.bin");
        assertThat(Manifest.parse(named, "Manifest.json").rootModel().path()).isEqualTo("com.apple.CoreML/model.bin");
        Path refused = zip("named.zip", Part.zeros("p.mlpackage/Data/com.apple.CoreML/model.bin", 128),
                Part.of("p.mlpackage/Manifest.json", named));
        assertThatThrownBy(() -> PackageArchive.unzip(refused, tmp.resolve("named-out"), PackageArchive.Limits.defaults()))
                .hasMessageContaining("names 'com.apple.CoreML/model.bin' as the root model")
                .hasMessageEndingWith("; refused before anything was unpacked");
        assertThat(filesUnder(tmp.resolve("named-out"))).isEmpty();

        Path numeric = zip("numeric.zip", Part.zeros("p.mlpackage/Data/com.apple.CoreML/model.bin", 1),
                Part.of("p.mlpackage/Manifest.json", manifestWithRootId("7").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Path out = tmp.resolve("numeric-out");
        PackageArchive.unzip(numeric, out, PackageArchive.Limits.defaults());
        assertThatThrownBy(() -> MlPackage.read(out.resolve("p.mlpackage"))).isInstanceOf(MlPackageException.class)
                .hasMessageEndingWith("Manifest.json: rootModelIdentifier is 7, not a string: it must be the id (a string)"
                        + " of one of the item entries [7, W]");
    }

    /**
     * What bounds the disk an archive takes is the unzip's limits, not the root-model rule: a file the manifest does
     * not name at all (a 128 MiB junk.bin beside a good package) unpacks within them and the package still reads; under
     * limits it does not fit, it is refused before anything is written.
     */
    @Test
    void aFileTheManifestDoesNotNameIsBoundOnlyByTheUnzipLimits() throws Exception {
        Path pkg = write("good", 0);
        Path zip = zip("junk.zip", Part.zeros("good.mlpackage/Data/com.apple.CoreML/junk.bin", 128),
                Part.of("good.mlpackage/Manifest.json", Files.readAllBytes(pkg.resolve(MlPackage.MANIFEST))),
                Part.of("good.mlpackage/Data/com.apple.CoreML/model.mlmodel", Files.readAllBytes(modelFile(pkg))),
                Part.of("good.mlpackage/Data/com.apple.CoreML/weights/weight.bin", Files.readAllBytes(weightFile(pkg))));
        assertThat(Files.size(zip)).isLessThan(1 << 20);

        Path out = tmp.resolve("junk-out");
        PackageArchive.unzip(zip, out, PackageArchive.Limits.defaults());
        assertThat(out.resolve("good.mlpackage/Data/com.apple.CoreML/junk.bin")).hasSize(128L << 20);
        assertThat(MlPackage.read(out.resolve("good.mlpackage"))).isNotNull();

        Path bounded = tmp.resolve("bounded-out");
        assertThatThrownBy(() -> PackageArchive.unzip(zip, bounded, new PackageArchive.Limits(64, 64L << 20, 64L << 20)))
                .isInstanceOf(PackageArchive.LimitExceeded.class)
                .satisfies(e -> assertThat(((PackageArchive.LimitExceeded) e).limit()).isEqualTo(PackageArchive.Limit.ENTRY_BYTES))
                .hasMessageContaining("entry 'good.mlpackage/Data/com.apple.CoreML/junk.bin' unpacks to more than 67108864 bytes");
        assertThat(filesUnder(bounded)).isEmpty();
    }

    /**
     * On a case-insensitive file system (macOS's APFS by default) MODEL.MLMODEL and manifest.json are the files the
     * reader opens as model.mlmodel and Manifest.json: the unzip holds them to the same bounds and reads such a
     * manifest before unpacking. Two entries that would be one file there are refused before anything is written.
     */
    @Test
    void namesThatDifferOnlyInCaseAreTheSameFileToTheUnzip() throws Exception {
        Path pkg = write("p", 0);
        byte[] manifest = Files.readAllBytes(pkg.resolve(MlPackage.MANIFEST));

        Path bigModel = zip("upper.zip", Part.of("p.mlpackage/Manifest.json", manifest),
                Part.zeros("p.mlpackage/Data/com.apple.CoreML/MODEL.MLMODEL", 128));
        assertThatThrownBy(() -> PackageArchive.unzip(bigModel, tmp.resolve("upper-out"), PackageArchive.Limits.defaults()))
                .isInstanceOf(MlPackageException.class).isNotInstanceOf(PackageArchive.LimitExceeded.class)
                .hasMessageStartingWith("archive upper.zip entry 'p.mlpackage/Data/com.apple.CoreML/MODEL.MLMODEL' is "
                        + (128L << 20) + " bytes, more than the 64 MiB a model.mlmodel may have");
        assertThat(filesUnder(tmp.resolve("upper-out"))).isEmpty();

        setItemPath(pkg, Manifest.MODEL_NAME, "com.apple.CoreML/model.bin");
        Path lowerManifest = zip("lower.zip", Part.zeros("p.mlpackage/Data/com.apple.CoreML/model.bin", 128),
                Part.of("p.mlpackage/manifest.json", Files.readAllBytes(pkg.resolve(MlPackage.MANIFEST))));
        assertThatThrownBy(() -> PackageArchive.unzip(lowerManifest, tmp.resolve("lower-out"), PackageArchive.Limits.defaults()))
                .hasMessageStartingWith("archive lower.zip entry 'p.mlpackage/manifest.json' names 'com.apple.CoreML/model.bin'"
                        + " as the root model")
                .hasMessageEndingWith("; refused before anything was unpacked");
        assertThat(filesUnder(tmp.resolve("lower-out"))).isEmpty();

        Path twice = zip("twice.zip", Part.of("p.mlpackage/Manifest.json", manifest),
                Part.of("p.mlpackage/Data/com.apple.CoreML/weights/weight.bin", new byte[16]),
                Part.of("p.mlpackage/Data/com.apple.coreml/weights/WEIGHT.bin", new byte[16]));
        String refusal = "archive twice.zip has entries 'p.mlpackage/Data/com.apple.CoreML/weights/weight.bin' and"
                + " 'p.mlpackage/Data/com.apple.coreml/weights/WEIGHT.bin', whose names differ only in case: on a"
                + " case-insensitive file system (macOS's default) they are one file; refused because the two could differ";
        assertThatThrownBy(() -> PackageArchive.unzip(twice, tmp.resolve("twice-out"), PackageArchive.Limits.defaults()))
                .isInstanceOf(MlPackageException.class).hasMessage(refusal);
        assertThat(filesUnder(tmp.resolve("twice-out"))).isEmpty();
        assertThatThrownBy(() -> PackageArchive.check(twice, "archive twice.zip", PackageArchive.Limits.defaults()))
                .hasMessage(refusal);
    }

    /**
     * A file entry and an entry that needs a directory of the same name (or of one differing only in case, the same
     * directory on macOS) cannot both be unpacked: refused before anything is written, in either order, whether the
     * directory comes from a path below it or a directory entry, and by the check without unpacking too.
     */
    @Test
    void aFileWhoseNameAnotherEntryNeedsAsADirectoryIsRefusedUpFront() throws Exception {
        byte[] one = {1};
        Path sameName = zip("same.zip", Part.of("p/a", one), Part.of("p/a/x", one));
        String refusal = "archive same.zip has file entry 'p/a' and entry 'p/a/x', which needs a directory of that name;"
                + " refused before anything was unpacked, because the two cannot both be unpacked";
        assertThatThrownBy(() -> PackageArchive.unzip(sameName, tmp.resolve("same-out"), PackageArchive.Limits.defaults()))
                .isInstanceOf(MlPackageException.class).hasMessage(refusal)
                .satisfies(e -> assertThat(((MlPackageException) e).kind()).isEqualTo(MlPackageException.Kind.CONTENT));
        assertThat(filesUnder(tmp.resolve("same-out"))).isEmpty();
        assertThatThrownBy(() -> PackageArchive.check(sameName, "archive same.zip", PackageArchive.Limits.defaults()))
                .hasMessage(refusal);

        Path otherCase = zip("case.zip", Part.of("p/B/deep/x", one), Part.of("p/b", one));
        assertThatThrownBy(() -> PackageArchive.unzip(otherCase, tmp.resolve("case-out"), PackageArchive.Limits.defaults()))
                .isInstanceOf(MlPackageException.class)
                .hasMessage("archive case.zip has file entry 'p/b' and entry 'p/B/deep/x', which needs a directory of that"
                        + " name (the names differ only in case: on a case-insensitive file system, macOS's default, they"
                        + " are one); refused before anything was unpacked, because the two cannot both be unpacked");
        assertThat(filesUnder(tmp.resolve("case-out"))).isEmpty();

        Path dirEntry = zip("dir.zip", Part.of("p/c", one), Part.of("p/C/", new byte[0]));
        assertThatThrownBy(() -> PackageArchive.unzip(dirEntry, tmp.resolve("dir-out"), PackageArchive.Limits.defaults()))
                .hasMessageStartingWith("archive dir.zip has file entry 'p/c' and entry 'p/C/', which needs a directory");
        assertThat(filesUnder(tmp.resolve("dir-out"))).isEmpty();

        // Names that only share a beginning are no such clash.
        Path fine = zip("fine.zip", Part.of("p/a", one), Part.of("p/ab/x", one), Part.of("p/a.d/x", one));
        assertThat(PackageArchive.unzip(fine, tmp.resolve("fine-out"), PackageArchive.Limits.defaults())).hasSize(3);
    }

    @Test
    void aDimensionOverTheIntRangeIsNamed() throws Exception {
        Path pkg = write("p", 0);
        editMain(pkg, fn -> fn.toBuilder().setInputs(0, NamedValueType.newBuilder(fn.getInputs(0))
                .setType(tensorOf(fn.getInputs(0).getType(), 1, 1L << 32))).build());
        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                .hasMessage("function input 'x': dimension 1 is 4294967296, more than the largest dimension, 2147483647");
    }

    /** 65536^4 = 2^64, which a long product wraps to 0: the constant was accepted with no values at all. */
    @Test
    void aTensorWhoseElementCountWrapsIsRefused() throws Exception {
        Path pkg = write("p", 0);
        editMain(pkg, fn -> {
            Block block = fn.getBlockSpecializationsMap().get(fn.getOpset());
            Block.Builder b = block.toBuilder();
            for (int i = 0; i < b.getOperationsCount(); i++) {
                Operation op = b.getOperations(i);
                if (op.getType().equals("const") && op.getAttributesMap().get("val").hasBlobFileValue()) {
                    ValueType huge = tensorOf(op.getOutputs(0).getType(), 65536, 65536, 65536, 65536);
                    Value empty = Value.newBuilder().setType(huge).setImmediateValue(Value.ImmediateValue.newBuilder()
                            .setTensor(io.aneforge.mlpackage.proto.TensorValue.newBuilder()
                                    .setFloats(io.aneforge.mlpackage.proto.TensorValue.RepeatedFloats.newBuilder()))).build();
                    b.setOperations(i, op.toBuilder().setOutputs(0, op.getOutputs(0).toBuilder().setType(huge))
                            .putAttributes("val", empty));
                }
            }
            return fn.toBuilder().putBlockSpecializations(fn.getOpset(), b.build()).build();
        });
        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                .hasMessageContaining("shape [65536, 65536, 65536, 65536] has 18446744073709551616 elements, more than the"
                        + " 2147483647 a tensor may have");
    }

    @Test
    void aPathTheFileSystemCannotNameIsRefused() throws Exception {
        Path pkg = write("p", 0);
        setItemPath(pkg, Manifest.MODEL_NAME, "com.apple.CoreML/\u0000model.mlmodel");
        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                .hasMessageStartingWith(pkg + ": Manifest.json: item 'model.mlmodel' has path 'com.apple.CoreML/\u0000model.mlmodel',"
                        + " which is not a valid path");
    }
}

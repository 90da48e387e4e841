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

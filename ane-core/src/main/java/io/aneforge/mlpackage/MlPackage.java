package io.aneforge.mlpackage;

import io.aneforge.io.BoundedFiles;
import io.aneforge.io.IoProblems;
import io.aneforge.memory.Heap;
import io.aneforge.mil.Program;
import io.aneforge.mil.ProgramValidator;
import io.aneforge.mil.MilException;
import io.aneforge.mlpackage.proto.Model;

import com.google.protobuf.CodedOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.List;
import java.util.Locale;

/**
 * Writes and reads {@code .mlpackage} directories:
 * {@code Manifest.json}, {@code Data/com.apple.CoreML/model.mlmodel},
 * {@code Data/com.apple.CoreML/weights/weight.bin}. Writing is deterministic (same
 * program, same bytes); reading validates the program like the builder would.
 */
public final class MlPackage {
    public static final String MANIFEST = "Manifest.json";
    public static final String DATA = "Data";
    /** The one blob file of a package, in {@code Data/com.apple.CoreML/weights/}. */
    public static final String WEIGHT_FILE = "weight.bin";

    private MlPackage() {
    }

    /** What writing produced. {@code weightCrc32} is the CRC-32 of {@code weight.bin}, computed while it was written. */
    public record WriteResult(Path packageDir, long modelBytes, long weightBytes, int blobCount, String modelSha256,
                              long weightCrc32) {
    }

    /**
     * Writes {@code program} to {@code packageDir} (which must not exist or be empty).
     * Encoding the model places the blobs; {@code weight.bin} is then written in one pass that
     * also computes its CRC-32 (for the manifest and an archive's stored entry).
     */
    public static WriteResult write(Program program, Path packageDir) {
        return write(program, packageDir, null);
    }

    /**
     * {@link #write(Program, Path)}, then zips the package into {@code archive} (when not null): the same
     * bytes as {@link PackageArchive#zip(Path, OutputStream)} of the written directory, taken from the
     * arrays the files were written from instead of read back from disk. The caller owns the stream.
     */
    public static WriteResult write(Program program, Path packageDir, OutputStream archive) {
        try {
            ProgramValidator.validate(program); // never write what the reader would reject
        } catch (MilException e) {
            throw new MlPackageException("refusing to write " + packageDir.getFileName() + ": " + e.getMessage(), e);
        }
        try {
            if (Files.exists(packageDir)) {
                try (var s = Files.list(packageDir)) {
                    if (s.findAny().isPresent()) {
                        throw new MlPackageException("package directory " + packageDir + " is not empty; write to a fresh directory");
                    }
                }
            }
            Path coreml = packageDir.resolve(DATA).resolve(Manifest.AUTHOR);
            Path weightsDir = coreml.resolve(Manifest.WEIGHTS_NAME);
            Files.createDirectories(weightsDir);
            Path weightFile = weightsDir.resolve(WEIGHT_FILE);
            Model model;
            BlobWriter w = new BlobWriter(weightFile);
            try (w) {
                model = ProgramCodec.encode(program, w);
            }
            byte[] modelBytes = serialize(model);
            Path modelFile = coreml.resolve(Manifest.MODEL_NAME);
            Files.write(modelFile, modelBytes);
            String modelSha = BlobWriter.sha256(modelBytes);
            byte[] manifest = Manifest.forProgram(modelSha, w.size(), w.crc32()).toJson().getBytes(StandardCharsets.UTF_8);
            Path manifestFile = packageDir.resolve(MANIFEST);
            Files.write(manifestFile, manifest);
            if (archive != null) { // the files just written, named as the directory's zip names them
                PackageArchive.zip(packageDir.getFileName().toString(), List.of(
                        PackageArchive.Entry.of(packageDir, modelFile, modelBytes),
                        new PackageArchive.Entry(PackageArchive.entryPath(packageDir, weightFile), w.size(), w.crc32(), w::writeTo),
                        PackageArchive.Entry.of(packageDir, manifestFile, manifest)), archive);
            }
            return new WriteResult(packageDir, modelBytes.length, w.size(), w.count(), modelSha, w.crc32());
        } catch (IOException e) {
            throw MlPackageException.localIo("cannot write package " + packageDir + ": " + IoProblems.describe(e, packageDir), e);
        }
    }

    /** Serializes with sorted map keys, like coremltools, so output is byte-stable. */
    static byte[] serialize(Model model) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(model.getSerializedSize());
        CodedOutputStream cos = CodedOutputStream.newInstance(out);
        cos.useDeterministicSerialization();
        model.writeTo(cos);
        cos.flush();
        return out.toByteArray();
    }

    /**
     * The largest {@code model.mlmodel} read: an ML program keeps its weights in {@code weight.bin}, so the model
     * file holds only ops, types, names and small constants (26 KB for MiniLM, about 100 KB for a BERT-base from
     * ONNX; a graph of thousands of ops stays within a few MB). 64 MiB leaves a wide margin for large graphs and
     * still refuses a damaged or crafted file (a 2 MB zip inflating to a 2 GB model) before it is read into memory.
     */
    public static final long MAX_MODEL_BYTES = 64L << 20;
    /** The largest {@code Manifest.json} read: a real one is about 600 bytes. */
    public static final long MAX_MANIFEST_BYTES = 1L << 20;

    /**
     * The most bytes this reader takes of a package file named {@code fileName} (the last segment of its path), or
     * -1 where it sets no bound of its own (names compared as a case-insensitive file system does, {@link #caseFolded}): {@code weight.bin} is bounded only by the heap and, in an archive, by the
     * unzip limits. {@link PackageArchive#unzip} applies these while unpacking, so a zip whose model.mlmodel inflates
     * to gigabytes is refused when the entry is seen, not after it was written out for this reader to refuse.
     */
    static long readLimit(String fileName) {
        String name = caseFolded(fileName);
        if (name.equals(caseFolded(Manifest.MODEL_NAME))) {
            return MAX_MODEL_BYTES;
        }
        return name.equals(caseFolded(MANIFEST)) ? MAX_MANIFEST_BYTES : -1;
    }

    /**
     * A file name as a case-insensitive file system sees it: on macOS's default APFS (insensitive to case and to
     * Unicode normalization) {@code MODEL.MLMODEL} or {@code manifest.json} is the file this reader opens as
     * {@code model.mlmodel} or {@code Manifest.json}, so the bounds by name, and the unzip's test for two entries
     * that would be one file, compare names in this form.
     */
    static String caseFolded(String name) {
        return Normalizer.normalize(name, Normalizer.Form.NFC).toLowerCase(Locale.ROOT);
    }

    /**
     * Why a file over its {@link #readLimit} is refused, to follow "is N bytes, more than " or "unpacks to more
     * than ": the same words whether the reader or an unzip finds it.
     */
    static String overLimit(String fileName) {
        return caseFolded(fileName).equals(caseFolded(MANIFEST))
                ? "the " + Heap.describe(MAX_MANIFEST_BYTES) + " a manifest may have (real ones are under 1 KB): the package is damaged"
                : "the " + Heap.describe(MAX_MODEL_BYTES) + " a model.mlmodel may have (an ML program keeps its weights in "
                + "weight.bin; real ones are well under a few MB): the package is damaged or not a Core ML package";
    }

    /**
     * Why a manifest whose root model item has {@code path} is refused, to follow "{@code <file>} ": the same
     * words whether the reader or an unzip (before unpacking) finds it. A root model of another name would escape
     * the model bound an unzip applies by name ({@link #readLimit}).
     */
    static String wrongRootModel(String path) {
        return "names '" + path + "' as the root model, but a Core ML package keeps its model at " + DATA + "/"
                + Manifest.ROOT_MODEL_PATH + ": set the root model item's path to '" + Manifest.ROOT_MODEL_PATH
                + "' with the model file there, or convert the model again";
    }

    /** Parses the raw Core ML model of a package (no validation). */
    public static Model readModel(Path packageDir) {
        return readModel(packageDir, readManifest(packageDir));
    }

    private static Model readModel(Path packageDir, Manifest m) {
        Path modelFile = itemPath(packageDir, m.rootModel());
        if (!Manifest.ROOT_MODEL_PATH.equals(m.rootModel().path())) {
            throw new MlPackageException(packageDir + ": " + MANIFEST + " " + wrongRootModel(m.rootModel().path()));
        }
        if (!Files.exists(modelFile)) {
            throw new MlPackageException(packageDir + " is not a complete .mlpackage: " + packageDir.relativize(modelFile)
                    + " is missing (convert it again)");
        }
        requireInside(packageDir, modelFile);
        byte[] bytes;
        try {
            bytes = BoundedFiles.readAllBytes(modelFile, MAX_MODEL_BYTES);
        } catch (BoundedFiles.Refused e) {
            throw new MlPackageException(e.notRegular()
                    ? packageDir + ": " + packageDir.relativize(modelFile) + " is not a regular file: a package holds its model as a file"
                    : packageDir + ": " + packageDir.relativize(modelFile) + " is " + e.size() + " bytes, more than "
                    + overLimit(Manifest.MODEL_NAME), e);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new MlPackageException(packageDir + " is not a complete .mlpackage: " + packageDir.relativize(modelFile)
                    + " is missing (convert it again)", e);
        } catch (IOException e) {
            throw MlPackageException.localIo("cannot read " + modelFile + ": " + IoProblems.describe(e, modelFile), e);
        }
        try {
            return Model.parseFrom(bytes);
        } catch (IOException e) {
            throw new MlPackageException("cannot read " + modelFile + ": " + IoProblems.describe(e, modelFile), e);
        } catch (OutOfMemoryError e) {
            // Protobuf objects take many times their encoded size; the parse's partial objects are garbage now.
            throw new MlPackageException.OutOfHeap(packageDir + ": parsing " + packageDir.relativize(modelFile) + " (" + bytes.length
                    + " bytes) does not fit in this JVM's heap of at most " + Heap.describe(Heap.maxBytes()), 2 * Heap.maxBytes(), e);
        }
    }

    public static Manifest readManifest(Path packageDir) {
        Path manifest = packageDir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            throw new MlPackageException(packageDir + " is not an .mlpackage: " + MANIFEST + " is missing");
        }
        requireInside(packageDir, manifest);
        try {
            return Manifest.parse(BoundedFiles.readAllBytes(manifest, MAX_MANIFEST_BYTES), manifest.toString());
        } catch (BoundedFiles.Refused e) {
            throw new MlPackageException(packageDir + ": " + MANIFEST + " is " + e.size() + " bytes, more than "
                    + overLimit(MANIFEST), e);
        } catch (IOException e) {
            throw MlPackageException.localIo("cannot read " + manifest + ": " + IoProblems.describe(e, manifest), e);
        }
    }

    /** Reads, decodes and validates a package; every problem is an {@link MlPackageException} naming file, op and rule. */
    public static Program read(Path packageDir) {
        Manifest manifest = readManifest(packageDir);
        Model model = readModel(packageDir, manifest);
        Path weightFile = itemPath(packageDir, manifest.weights()).resolve(WEIGHT_FILE);
        BlobReader blobs = null;
        if (Files.exists(weightFile)) {
            requireInside(packageDir, weightFile);
            if (!Files.isRegularFile(weightFile)) {
                throw new MlPackageException(packageDir + ": " + packageDir.relativize(weightFile)
                        + " is not a regular file: a package holds its weights as a file");
            }
            blobs = new BlobReader(weightFile);
        }
        try {
            Program p = ProgramCodec.decode(model, blobs);
            ProgramValidator.validate(p);
            return p;
        } catch (MilException e) {
            throw new MlPackageException(packageDir.getFileName() + ": " + e.getMessage(), e);
        } finally {
            if (blobs != null) {
                blobs.close();
            }
        }
    }

    /**
     * Where a manifest item is: its {@code path} taken relative to {@code Data/}. A path that is absolute or steps
     * out with {@code ..} is refused: the reader would otherwise read {@code /dev/zero} or another package's weights.
     */
    static Path itemPath(Path packageDir, Manifest.Item item) {
        String path = item.path();
        Path relative;
        try {
            relative = Path.of(path);
        } catch (java.nio.file.InvalidPathException e) {
            throw new MlPackageException(packageDir + ": " + MANIFEST + ": item '" + item.name() + "' has path '" + path
                    + "', which is not a valid path: " + e.getReason(), e);
        }
        boolean escapes = path.isEmpty() || relative.isAbsolute() || path.startsWith("/");
        for (Path part : relative) {
            escapes |= part.toString().equals("..");
        }
        if (escapes) {
            throw new MlPackageException(packageDir + ": " + MANIFEST + ": item '" + item.name() + "' has path '" + path
                    + "', which is not inside the package's " + DATA + "/ folder: item paths are relative to " + DATA
                    + "/, like " + Manifest.AUTHOR + "/" + item.name());
        }
        return packageDir.resolve(DATA).resolve(relative.normalize());
    }

    /** Refuses an existing file whose real location (symbolic links resolved) is outside the package. */
    private static void requireInside(Path packageDir, Path file) {
        Path real;
        Path root;
        try {
            real = file.toRealPath();
            root = packageDir.toRealPath();
        } catch (IOException e) {
            throw MlPackageException.localIo("cannot read " + file + ": " + IoProblems.describe(e, file), e);
        }
        if (!real.startsWith(root)) {
            throw new MlPackageException(packageDir + ": " + packageDir.relativize(file) + " is a symbolic link to " + real
                    + ", outside the package: a package holds its own files (copy them in)");
        }
    }
}

package io.aneforge.mlpackage;

import io.aneforge.io.IoProblems;
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
import java.util.List;

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
            throw new MlPackageException("cannot write package " + packageDir + ": " + IoProblems.describe(e, packageDir), e);
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

    /** Parses the raw Core ML model of a package (no validation). */
    public static Model readModel(Path packageDir) {
        Manifest m = readManifest(packageDir);
        Path modelFile = packageDir.resolve(DATA).resolve(m.rootModel().path());
        try {
            return Model.parseFrom(Files.readAllBytes(modelFile));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new MlPackageException(packageDir + " is not a complete .mlpackage: " + packageDir.relativize(modelFile)
                    + " is missing (convert it again)", e);
        } catch (IOException e) {
            throw new MlPackageException("cannot read " + modelFile + ": " + IoProblems.describe(e, modelFile), e);
        }
    }

    public static Manifest readManifest(Path packageDir) {
        Path manifest = packageDir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            throw new MlPackageException(packageDir + " is not an .mlpackage: " + MANIFEST + " is missing");
        }
        try {
            return Manifest.parse(Files.readAllBytes(manifest), manifest.toString());
        } catch (IOException e) {
            throw new MlPackageException("cannot read " + manifest + ": " + IoProblems.describe(e, manifest), e);
        }
    }

    /** Reads, decodes and validates a package; every problem is an {@link MlPackageException} naming file, op and rule. */
    public static Program read(Path packageDir) {
        Manifest manifest = readManifest(packageDir);
        Model model = readModel(packageDir);
        Path weightFile = packageDir.resolve(DATA).resolve(manifest.weights().path()).resolve(WEIGHT_FILE);
        BlobReader blobs = Files.isRegularFile(weightFile) ? new BlobReader(weightFile) : null;
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
}

package io.aneforge.mlpackage;

import io.aneforge.mil.Program;
import io.aneforge.mil.ProgramValidator;
import io.aneforge.mil.MilException;
import io.aneforge.mlpackage.proto.Model;

import com.google.protobuf.CodedOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes and reads {@code .mlpackage} directories:
 * {@code Manifest.json}, {@code Data/com.apple.CoreML/model.mlmodel},
 * {@code Data/com.apple.CoreML/weights/weight.bin}. Writing is deterministic (same
 * program, same bytes); reading validates the program like the builder would.
 */
public final class MlPackage {
    public static final String MANIFEST = "Manifest.json";
    public static final String DATA = "Data";

    private MlPackage() {
    }

    /** What writing produced. */
    public record WriteResult(Path packageDir, long modelBytes, long weightBytes, int blobCount, String modelSha256) {
    }

    /**
     * Writes {@code program} to {@code packageDir} (which must not exist or be empty).
     * The weight file is streamed while the model is encoded.
     */
    public static WriteResult write(Program program, Path packageDir) {
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
            Path weightFile = weightsDir.resolve("weight.bin");
            Model model;
            int blobs;
            try (BlobWriter w = new BlobWriter(weightFile)) {
                model = ProgramCodec.encode(program, w);
                blobs = w.count();
            }
            byte[] modelBytes = serialize(model);
            Files.write(coreml.resolve(Manifest.MODEL_NAME), modelBytes);
            String modelSha = BlobWriter.sha256(modelBytes);
            String weightsSha = sha256(weightFile);
            Files.writeString(packageDir.resolve(MANIFEST), Manifest.forProgram(modelSha, weightsSha).toJson(), StandardCharsets.UTF_8);
            return new WriteResult(packageDir, modelBytes.length, Files.size(weightFile), blobs, modelSha);
        } catch (IOException e) {
            throw new MlPackageException("cannot write package " + packageDir + ": " + e.getMessage(), e);
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
        } catch (IOException e) {
            throw new MlPackageException("cannot read " + modelFile + ": " + e.getMessage(), e);
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
            throw new MlPackageException("cannot read " + manifest + ": " + e.getMessage(), e);
        }
    }

    /** Reads, decodes and validates a package; every problem is an {@link MlPackageException} naming file, op and rule. */
    public static Program read(Path packageDir) {
        Manifest manifest = readManifest(packageDir);
        Model model = readModel(packageDir);
        Path weightFile = packageDir.resolve(DATA).resolve(manifest.weights().path()).resolve("weight.bin");
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

    private static String sha256(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

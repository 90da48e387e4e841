package io.aneforge.registry.blob;

import io.aneforge.mil.MilException;
import io.aneforge.mil.Target;
import io.aneforge.mlpackage.Manifest;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.MlPackageException;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.mlpackage.proto.FeatureDescription;
import io.aneforge.mlpackage.proto.Function;
import io.aneforge.mlpackage.proto.Model;
import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.storage.BlobStorage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.springframework.stereotype.Component;

/**
 * Checks that a blob is a zipped {@code .mlpackage}: a zip whose package root holds
 * {@code Manifest.json}. The package root is the archive root, or a single top-level directory
 * named {@code *.mlpackage}. The archive itself must pass ane-core's {@link PackageArchive#check}, the
 * rules the device agent and the CLI unzip with: read from the central directory (what unzip, Python and
 * ZipFile list), no truncation, no symbolic links, local headers naming the same files, no absolute
 * paths, {@code ..} segments, backslashes or duplicates, and within the entry-count and
 * uncompressed-size limits (counted while inflating, not trusted from headers). Then its {@code Manifest.json}
 * and root {@code model.mlmodel} are read (within ane-core's reader bounds, 1 MiB and 64 MiB) and must parse:
 * a Core ML ML program whose specification version and opset ane-core knows, with a {@code main} function and
 * at least one input ({@link PackageFacts}). {@code weight.bin} is not read: the ops and weights are not decoded.
 */
@Component
public class MlpackageArchive {

    /** How the archive is named inside ane-core's messages, after "blob sha256:… is not a zipped .mlpackage: ". */
    private static final String ARCHIVE = "the archive";

    private final BlobStorage storage;
    private final PackageArchive.Limits limits;

    MlpackageArchive(BlobStorage storage, RegistryProperties props) {
        this.storage = storage;
        long maxUncompressed = props.archive().maxUncompressedSize();
        this.limits = new PackageArchive.Limits(props.archive().maxEntries(), maxUncompressed, maxUncompressed);
    }

    /**
     * The checks need the central directory at the end of the archive and read entries where it says, so the
     * blob is copied to a temporary file first (deleted afterwards) rather than held in memory. Failing to
     * read the store or write the copy is the registry's fault, not the archive's: that is not a 422.
     */
    public PackageFacts validate(Blob blob) {
        Path spool = null;
        try {
            spool = Files.createTempFile("aneforge-archive-", ".zip");
            try (InputStream in = storage.open(blob.storageKey(), 0, -1)) {
                long copied = Files.copy(in, spool, StandardCopyOption.REPLACE_EXISTING);
                if (copied != blob.size()) {
                    throw new IOException("read " + copied + " bytes of blob " + blob.digest() + ", which has " + blob.size());
                }
            }
            return validate(spool, blob.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy blob " + blob.digest() + " to a temporary file to check it", e);
        } finally {
            if (spool != null) {
                try {
                    Files.deleteIfExists(spool);
                } catch (IOException ignored) {
                    // a leftover temporary file is not worth failing the registration for
                }
            }
        }
    }

    PackageFacts validate(Path zip, String what) {
        return facts(zip, what, packageRoot(zip, what));
    }

    /** The package root's prefix inside the archive: "" or "{@code <name>.mlpackage/}". */
    private String packageRoot(Path zip, String what) {
        List<String> names;
        try {
            names = PackageArchive.check(zip, ARCHIVE, limits);
        } catch (PackageArchive.LimitExceeded e) {
            throw invalid(what, e.getMessage() + "; the registry's limit is aneforge.archive."
                    + (e.limit() == PackageArchive.Limit.ENTRIES ? "max-entries" : "max-uncompressed-size"));
        } catch (MlPackageException e) {
            throw invalid(what, e.getMessage());
        }
        if (names.isEmpty()) throw invalid(what, "the archive has no entries");
        Set<String> roots = new HashSet<>();
        boolean rootManifest = false;
        Set<String> nestedManifests = new HashSet<>();
        for (String name : names) {
            int slash = name.indexOf('/');
            roots.add(slash < 0 ? name : name.substring(0, slash));
            if (name.equals("Manifest.json")) rootManifest = true;
            if (slash > 0 && name.substring(slash + 1).equals("Manifest.json")) nestedManifests.add(name.substring(0, slash));
        }
        if (rootManifest) return "";
        if (roots.size() == 1) {
            String root = roots.iterator().next();
            if (root.endsWith(".mlpackage") && nestedManifests.contains(root)) return root + "/";
        }
        throw invalid(what, "no Manifest.json at the package root (expected 'Manifest.json' or '<name>.mlpackage/Manifest.json')");
    }

    /**
     * Reads the manifest and the root model of an archive {@link PackageArchive#check} accepted (names, sizes and
     * CRCs verified), each within the bound ane-core's package reader applies to it.
     */
    private static PackageFacts facts(Path zip, String what, String root) {
        try (ZipFile zf = new ZipFile(zip.toFile())) {
            Manifest manifest = Manifest.parse(entry(zf, root + MlPackage.MANIFEST, MlPackage.MAX_MANIFEST_BYTES, what),
                    MlPackage.MANIFEST);
            Manifest.Item item = manifest.rootModel();
            if (item == null || !Manifest.ROOT_MODEL_PATH.equals(item.path())) {
                throw invalid(what, MlPackage.MANIFEST + " does not name its root model at " + Manifest.ROOT_MODEL_PATH
                        + " (rootModelIdentifier and its item entry); convert the model again");
            }
            String modelName = root + MlPackage.DATA + "/" + Manifest.ROOT_MODEL_PATH;
            Model model;
            try {
                model = Model.parseFrom(entry(zf, modelName, MlPackage.MAX_MODEL_BYTES, what));
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw invalid(what, modelName + " is not a Core ML model: " + e.getMessage() + "; convert the model again");
            }
            return facts(model, modelName, what);
        } catch (MlPackageException e) {
            throw invalid(what, e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the checked copy of blob " + what, e);
        }
    }

    private static PackageFacts facts(Model model, String modelName, String what) {
        if (!model.hasMlProgram()) {
            throw invalid(what, modelName + " is not a Core ML ML program (no mlProgram): the registry serves ML programs only");
        }
        Target target;
        Target opset;
        try {
            target = Target.fromSpecificationVersion((int) model.getSpecificationVersion());
            Function main = model.getMlProgram().getFunctionsMap().get("main");
            if (main == null) {
                throw invalid(what, modelName + " has no function 'main'");
            }
            opset = Target.fromOpset(main.getOpset());
        } catch (MilException e) {
            throw invalid(what, modelName + ": " + e.getMessage());
        }
        if (opset.compareTo(target) > 0) {
            throw invalid(what, modelName + ": opset " + opset.opset() + " needs specification version "
                    + opset.specificationVersion() + " but the model declares " + model.getSpecificationVersion());
        }
        List<FeatureDescription> inputs = model.getDescription().getInputList();
        if (inputs.isEmpty()) {
            throw invalid(what, modelName + " declares no inputs");
        }
        FeatureDescription first = inputs.get(0);
        List<Long> shape = first.getType().hasMultiArrayType() ? first.getType().getMultiArrayType().getShapeList() : List.of();
        Map<String, String> metadata = model.getDescription().getMetadata().getUserDefinedMap();
        return new PackageFacts(target, first.getName(), List.copyOf(shape), metadata.get(PackageFacts.VARIANT_METADATA),
                metadata.get(PackageFacts.BUILD_METADATA), "inputs " + features(inputs) + "; outputs "
                        + features(model.getDescription().getOutputList()));
    }

    /** {@code name:TYPE} per feature, in order: a multi-array's element type, else the feature type's kind. */
    private static String features(List<FeatureDescription> features) {
        StringBuilder s = new StringBuilder();
        for (FeatureDescription f : features) {
            if (s.length() > 0) s.append(' ');
            s.append(f.getName()).append(':').append(f.getType().hasMultiArrayType()
                    ? f.getType().getMultiArrayType().getDataType().name() : f.getType().getTypeCase().name());
        }
        return s.toString();
    }

    /** An entry's bytes, refused past {@code max} (counted, not taken from the entry's header). */
    private static byte[] entry(ZipFile zf, String name, long max, String what) throws IOException {
        ZipEntry e = zf.getEntry(name);
        if (e == null || e.isDirectory()) {
            throw invalid(what, "'" + name + "' is missing or not a file: a package holds its "
                    + (name.endsWith(MlPackage.MANIFEST) ? "manifest" : "model") + " there");
        }
        try (InputStream in = zf.getInputStream(e)) {
            byte[] bytes = in.readNBytes((int) max + 1);
            if (bytes.length > max) {
                throw invalid(what, "'" + name + "' is more than " + max + " bytes, the most the package reader takes");
            }
            return bytes;
        }
    }

    private static ApiProblem invalid(String what, String why) {
        return ApiProblem.unprocessable("invalid-mlpackage", "Not a valid .mlpackage archive",
                "blob " + what + " is not a zipped .mlpackage: " + why);
    }
}

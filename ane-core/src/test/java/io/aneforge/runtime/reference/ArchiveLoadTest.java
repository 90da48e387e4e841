package io.aneforge.runtime.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.mil.DType;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.MlPackageException;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading a zip unpacks it with the package reader's own bounds: a model.mlmodel the reader would refuse is
 * refused while unpacking (from its declared size, or by counting when the declared size lies), as a content
 * failure, and the scratch directory is gone afterwards.
 */
class ArchiveLoadTest {

    private static final String MODEL_ENTRY = "p.mlpackage/Data/com.apple.CoreML/model.mlmodel";
    /** 128 MiB of zeros: deflates to well under 1 MB. */
    private static final int BOMB_MIB = 128;

    @TempDir
    Path tmp;

    /** A real package's manifest and weights with a model.mlmodel of {@link #BOMB_MIB} MiB of zeros, deflated. */
    private byte[] bomb() throws Exception {
        Path pkg = tmp.resolve("src/p.mlpackage");
        MlPackage.write(TestPrograms.standard(1, 1, DType.FP32, "EXACT"), pkg);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            z.setLevel(1); // the fastest deflate of zeros
            z.putNextEntry(new ZipEntry("p.mlpackage/Manifest.json"));
            z.write(Files.readAllBytes(pkg.resolve(MlPackage.MANIFEST)));
            z.putNextEntry(new ZipEntry("p.mlpackage/Data/com.apple.CoreML/weights/weight.bin"));
            z.write(Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/weights/weight.bin")));
            z.putNextEntry(new ZipEntry(MODEL_ENTRY));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < BOMB_MIB; i++) {
                z.write(zeros);
            }
            z.closeEntry();
        }
        assertThat(bytes.size()).isLessThan(1 << 20);
        return bytes.toByteArray();
    }

    private static MlPackageException.Kind kindOf(Throwable e) {
        return ((MlPackageException) e.getCause()).kind();
    }

    private Path scratch() throws Exception {
        return Files.createDirectories(tmp.resolve("scratch"));
    }

    private static long filesIn(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void anOversizedModelIsRefusedFromItsDeclaredSizeBeforeAnythingIsWritten() throws Exception {
        Path zip = Files.write(tmp.resolve("bomb.zip"), bomb());
        Path scratch = scratch();
        assertThatThrownBy(() -> ReferenceRuntime.readArchive(zip, scratch))
                .isInstanceOf(MlPackageException.class)
                .satisfies(e -> assertThat(((MlPackageException) e).kind()).isEqualTo(MlPackageException.Kind.CONTENT))
                .isNotInstanceOf(PackageArchive.LimitExceeded.class)
                .hasMessage("archive bomb.zip entry '" + MODEL_ENTRY + "' is " + (BOMB_MIB << 20) + " bytes, more than the"
                        + " 64 MiB a model.mlmodel may have (an ML program keeps its weights in weight.bin; real ones are"
                        + " well under a few MB): the package is damaged or not a Core ML package");
        assertThat(filesIn(scratch)).as("the unpack directory is deleted").isZero();

        // load() names the file and keeps the content verdict as the cause
        assertThatThrownBy(() -> new ReferenceRuntime().load(zip, RuntimeOptions.defaults()))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageStartingWith("cannot load " + zip + ": archive bomb.zip entry '" + MODEL_ENTRY + "' is ")
                .satisfies(e -> assertThat(kindOf(e)).isEqualTo(MlPackageException.Kind.CONTENT));
    }

    @Test
    void aModelWhoseDeclaredSizeLiesIsStoppedWhileStreaming() throws Exception {
        byte[] z = bomb();
        setDeclaredSize(z, MODEL_ENTRY, 1000);
        Path zip = Files.write(tmp.resolve("liar.zip"), z);
        Path scratch = scratch();
        assertThatThrownBy(() -> ReferenceRuntime.readArchive(zip, scratch))
                .isInstanceOf(MlPackageException.class)
                .satisfies(e -> assertThat(((MlPackageException) e).kind()).isEqualTo(MlPackageException.Kind.CONTENT))
                .hasMessage("archive liar.zip entry '" + MODEL_ENTRY + "' unpacks to more than the 64 MiB a model.mlmodel"
                        + " may have (an ML program keeps its weights in weight.bin; real ones are well under a few MB):"
                        + " the package is damaged or not a Core ML package");
        assertThat(filesIn(scratch)).isZero();

        // the same archive through the plain unzip, as the agent and the CLI use it: no more than the bound is written
        Path out = tmp.resolve("out");
        assertThatThrownBy(() -> PackageArchive.unzip(zip, out, PackageArchive.Limits.defaults()))
                .hasMessageContaining("unpacks to more than the 64 MiB a model.mlmodel may have");
        assertThat(Files.size(out.resolve(MODEL_ENTRY))).isLessThanOrEqualTo(MlPackage.MAX_MODEL_BYTES + (1 << 16));
    }

    @Test
    void aModelAtTheBoundIsUnpackedAndAnOversizedManifestIsRefused() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            z.putNextEntry(new ZipEntry("q/" + MlPackage.MANIFEST));
            z.write(new byte[(int) MlPackage.MAX_MANIFEST_BYTES + 1]);
        }
        Path zip = Files.write(tmp.resolve("manifest.zip"), bytes.toByteArray());
        assertThatThrownBy(() -> PackageArchive.unzip(zip, tmp.resolve("m"), PackageArchive.Limits.defaults()))
                .hasMessage("archive manifest.zip entry 'q/Manifest.json' is 1048577 bytes, more than the 1 MiB a manifest"
                        + " may have (real ones are under 1 KB): the package is damaged");

        // the bound is the reader's: exactly 64 MiB passes the unzip (the reader then judges the bytes)
        bytes.reset();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            z.setLevel(1);
            z.putNextEntry(new ZipEntry("model.mlmodel"));
            z.write(new byte[(int) MlPackage.MAX_MODEL_BYTES]);
        }
        Path atBound = Files.write(tmp.resolve("bound.zip"), bytes.toByteArray());
        assertThat(PackageArchive.unzip(atBound, tmp.resolve("b"), PackageArchive.Limits.defaults())).hasSize(1);
        assertThat(Files.size(tmp.resolve("b/model.mlmodel"))).isEqualTo(MlPackage.MAX_MODEL_BYTES);
    }

    /** Rewrites the uncompressed size that {@code entry}'s central-directory record declares (its local header says 0). */
    private static void setDeclaredSize(byte[] zip, String entry, int size) {
        byte[] name = entry.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 46 + name.length <= zip.length; i++) {
            if (b.getInt(i) == 0x02014b50 && Short.toUnsignedInt(b.getShort(i + 28)) == name.length
                    && java.util.Arrays.equals(zip, i + 46, i + 46 + name.length, name, 0, name.length)) {
                b.putInt(i + 24, size);
                return;
            }
        }
        throw new IllegalArgumentException("no central-directory record for " + entry);
    }
}

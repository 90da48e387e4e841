package io.aneforge.registry.variant;

import static io.aneforge.testsupport.archives.Zips.renamedInCentralDirectory;
import static io.aneforge.testsupport.archives.Zips.symlinked;
import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Archives that look like packages to a reader walking local headers but are something else to unzip,
 * Python and ZipFile (which read the central directory) are refused, and leave no variant behind.
 */
class VariantArchiveTest extends RegistryTestBase {

    private static final String MANIFEST = "{\"fileFormatVersion\":\"1.0.0\"}";

    private String refused(String model, int version, byte[] archive) {
        Response r = registerVariant(model, version, "A16", "17.0", "ane", "fp16", upload(archive));
        assertThat(r.status()).as(r.text()).isEqualTo(422);
        assertThat(r.problem()).isEqualTo("invalid-mlpackage");
        String detail = r.json().path("detail").asString();
        assertThat(detail).startsWith("blob sha256:").doesNotContain("null");
        return detail;
    }

    private static int centralDirectoryStart(byte[] zip) {
        for (int i = 0; i + 4 <= zip.length; i++) {
            if (zip[i] == 0x50 && zip[i + 1] == 0x4b && zip[i + 2] == 0x01 && zip[i + 3] == 0x02) return i;
        }
        throw new IllegalArgumentException("no central directory");
    }

    @Test
    void archivesAreJudgedByTheirCentralDirectory() {
        createModel("cd-archives");
        int v = createVersion("cd-archives");
        byte[] good = mlpackage("cd-archives");

        // `head -c 133 good.zip`: the first entry's local header and data, no central directory.
        assertThat(refused("cd-archives", v, Arrays.copyOf(good, 133)))
                .contains("is not a valid zip: no end-of-central-directory record");
        // Every local header and all the data, cut where the central directory starts.
        assertThat(refused("cd-archives", v, Arrays.copyOf(good, centralDirectoryStart(good))))
                .contains("is not a valid zip: no end-of-central-directory record");

        byte[] link = symlinked(zip("x.mlpackage/Manifest.json", MANIFEST, "x.mlpackage/Data/link", "/etc/passwd"));
        assertThat(refused("cd-archives", v, link))
                .contains("contains symbolic link entry 'x.mlpackage/Data/link': links are refused");

        // Local header: Manifest.json, a valid package; central directory: ../../evil.xy.
        byte[] twoNames = renamedInCentralDirectory(zip("Manifest.json", MANIFEST, "Data/model.mlmodel", "m"),
                "Manifest.json", "../../evil.xy");
        assertThat(refused("cd-archives", v, twoNames))
                .contains("entry '../../evil.xy'").contains("local header names 'Manifest.json'");

        byte[] garbage = new byte[4096];
        new Random(7).nextBytes(garbage);
        assertThat(refused("cd-archives", v, garbage)).contains("is not a valid zip");
        // A local-header signature and nothing after it: the old reader's detail was "(null)".
        assertThat(refused("cd-archives", v, new byte[] {'P', 'K', 3, 4, 20, 0, 0}))
                .contains("is not a valid zip: no end-of-central-directory record");

        assertThat(get("/api/v1/models/cd-archives/versions/" + v + "/variants", reader()).json().size()).isZero();
        Response ok = registerVariant("cd-archives", v, "A16", "17.0", "ane", "fp16", upload(good));
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        assertThat(get("/api/v1/models/cd-archives/versions/" + v + "/variants", reader()).json().size()).isEqualTo(1);
    }
}

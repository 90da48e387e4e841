package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.registry.BlobCache;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code pull}'s cache and output naming against a registry stand-in that serves a real converted archive
 * and counts its downloads: the second pull of a digest reads the cache, a cache entry whose bytes changed
 * is downloaded again, {@code --name} keeps one stable package, and other packages in {@code --out} are named.
 */
class PullCacheTest {

    @TempDir
    static Path dir;
    static StubRegistry registry;
    static final AtomicInteger downloads = new AtomicInteger();
    static VariantEntry served;
    static VariantEntry other;
    static Map<String, String> env;

    @BeforeAll
    static void start() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 3);
        Path converted = dir.resolve("converted");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--out", converted.toString(), "--chips", "M2",
                "--seq-len", "8", "--samples", "0", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        VariantsManifest manifest = VariantsManifest.read(converted.resolve("variants.json"));
        served = manifest.variants().get(0);
        other = manifest.variants().get(1);
        Map<String, StubRegistry.Answer> answers = new HashMap<>();
        for (VariantEntry v : new VariantEntry[] {served, other}) {
            byte[] zip = Files.readAllBytes(converted.resolve(v.archive()));
            answers.put("GET /blob/" + v.id(), StubRegistry.Answer.bytes(zip));
            answers.put("GET /api/v1/models/" + v.id() + "/resolve", StubRegistry.Answer.json(200,
                    "{\"model\":\"m\",\"version\":1,\"alias\":\"production\",\"digest\":\"sha256:" + v.sha256()
                    + "\",\"size\":" + zip.length + ",\"url\":\"/blob/" + v.id() + "\",\"variant\":{\"id\":\"" + v.id()
                    + "\",\"chip\":\"M2\"}}"));
        }
        registry = StubRegistry.start(call -> {
            if (call.startsWith("GET /blob/")) {
                downloads.incrementAndGet();
            }
            return answers.get(call);
        });
        Map<String, String> e = new HashMap<>(registry.env());
        e.put(BlobCache.DIR_ENV, dir.resolve("cache").toString());
        env = Map.copyOf(e);
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
    }

    static Cli pull(String model, Path out, String... more) {
        String[] args = new String[] {"pull", "--model", model, "--chip", "M2", "--os", "18.0", "--out", out.toString()};
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return Cli.run(env, all);
    }

    @Test
    void theSecondPullOfADigestReadsTheCacheAndAChangedEntryIsDownloadedAgain() throws Exception {
        int before = downloads.get();
        Path first = dir.resolve("first");
        Cli a = pull(served.id(), first);
        assertThat(a.code()).as(a.toString()).isZero();
        assertThat(a.out()).contains("verified sha256 " + served.sha256());
        assertThat(downloads.get()).isEqualTo(before + 1);
        Path entry = dir.resolve("cache/blobs/sha256/" + served.sha256());
        assertThat(entry).isRegularFile();

        Path second = dir.resolve("second");
        Cli b = pull(served.id(), second, "--json");
        assertThat(b.code()).as(b.toString()).isZero();
        assertThat(downloads.get()).as("served from the cache").isEqualTo(before + 1);
        JsonNode j = JsonMapper.shared().readTree(b.out());
        assertThat(j.get("fromCache").asBoolean()).isTrue();
        assertThat(j.get("digest").asString()).isEqualTo("sha256:" + served.sha256());
        assertThat(j.get("variant").get("id").asString()).isEqualTo(served.id());
        Path pkg = Path.of(j.get("path").asString());
        assertThat(MlPackage.read(pkg).metadata()).containsEntry("aneforge.build", served.path().replace(".mlpackage", ""));
        assertThat(pkg).isEqualTo(second.resolve(served.id()).resolve(served.path())); // the model layout, the default

        // A cache entry whose bytes changed is never served: it is downloaded again and replaced.
        byte[] bytes = Files.readAllBytes(entry);
        bytes[bytes.length / 2] ^= 1;
        Files.write(entry, bytes);
        Cli c = pull(served.id(), dir.resolve("third"));
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("verified sha256 " + served.sha256());
        assertThat(downloads.get()).isEqualTo(before + 2);
        assertThat(sha256(entry)).isEqualTo(served.sha256());

        Cli none = pull(served.id(), dir.resolve("fourth"), "--no-cache");
        assertThat(none.code()).as(none.toString()).isZero();
        assertThat(downloads.get()).as("--no-cache always downloads").isEqualTo(before + 3);
    }

    @Test
    void nameKeepsOneStablePackageAndOtherPackagesInOutAreNamed() throws Exception {
        Path out = dir.resolve("app-resources");
        Cli a = pull(served.id(), out, "--name", "Encoder.mlpackage");
        assertThat(a.code()).as(a.toString()).isZero();
        assertThat(MlPackage.read(out.resolve("Encoder.mlpackage")).metadata()).containsEntry("aneforge.build", served.path().replace(".mlpackage", ""));
        assertThat(a.err()).isEmpty();

        // The alias moved to another variant of the model: the same name now holds it, the output says what it
        // replaced, and nothing else is left in --out but the pulls' records.
        Cli b = pull(other.id(), out, "--name", "Encoder.mlpackage");
        assertThat(b.code()).as(b.toString()).isZero();
        assertThat(b.out()).contains("replaced " + out.resolve("Encoder.mlpackage") + ", which held m v1 (sha256:"
                + served.sha256().substring(0, 12) + "…)");
        assertThat(MlPackage.read(out.resolve("Encoder.mlpackage")).metadata()).containsEntry("aneforge.build", other.path().replace(".mlpackage", ""));
        try (var files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(io.aneforge.cli.pull.PullDirectory.RECORDS, "Encoder.mlpackage");
        }

        // Without --name (flat) the variant's own name is used, and the package left beside it is pointed out.
        Cli c = pull(served.id(), out, "--out-layout", "flat");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.err()).contains("also holds Encoder.mlpackage").contains("pass --name <name>.mlpackage");
    }

    @Test
    void badNamesAndContradictoryCacheOptionsAreRefusedBeforeAnyDownload() {
        int before = downloads.get();
        for (String bad : new String[] {"Encoder", "../x.mlpackage", ".hidden.mlpackage", ".mlpackage"}) {
            Cli c = pull(served.id(), dir.resolve("bad"), "--name", bad);
            assertThat(c.code()).as(c.toString()).isEqualTo(2);
            assertThat(c.err()).contains("--name must be a directory name ending in .mlpackage");
        }
        Cli both = pull(served.id(), dir.resolve("bad"), "--no-cache", "--cache-dir", dir.resolve("c2").toString());
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("--no-cache and --cache-dir contradict each other");
        assertThat(downloads.get()).isEqualTo(before);
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}

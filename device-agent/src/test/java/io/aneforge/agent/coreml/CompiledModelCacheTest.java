package io.aneforge.agent.coreml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.cache.ArtifactCache;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.cache.CachedArtifact;
import io.aneforge.agent.cache.UnzipLimits;
import io.aneforge.runtime.RuntimeLoadException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cache keys for compiled models, on the real tiny_fp16 package from coremltools. */
class CompiledModelCacheTest {

    @TempDir
    Path dir;

    static Path fixture() throws Exception {
        return Path.of(CompiledModelCacheTest.class.getResource("/coreml/tiny_fp16.mlpackage").toURI());
    }

    @Test
    void treeDigestSurvivesZipDownloadAndUnpackThroughTheArtifactCache() throws Exception {
        Path fixture = fixture();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes); Stream<Path> files = Files.walk(fixture)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                zip.putNextEntry(new ZipEntry("tiny_fp16.mlpackage/" + fixture.relativize(f).toString().replace('\\', '/')));
                zip.write(Files.readAllBytes(f));
                zip.closeEntry();
            }
        }
        byte[] archive = bytes.toByteArray();
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(archive));
        ArtifactCache cache = new ArtifactCache(dir.resolve("artifacts"), 1 << 20,
                ref -> new ByteArrayInputStream(archive), UnzipLimits.defaults(), Clock.systemUTC());

        CachedArtifact cached = cache.get(new ArtifactRef(hex, archive.length, URI.create("http://unused")));

        // the compiled-model key depends on the package content only, not on where it was unpacked
        assertThat(CompiledModelCache.packageDigest(cached.packageRoot()))
                .isEqualTo(CompiledModelCache.packageDigest(fixture))
                .matches("[0-9a-f]{64}");
        CompiledModelCache compiled = new CompiledModelCache(dir.resolve("compiled"), "24A335");
        assertThat(compiled.keyFor(cached.packageRoot())).isEqualTo(compiled.keyFor(fixture));
    }

    @Test
    void digestSeesRenamesAndContentChanges() throws Exception {
        Path copy = dir.resolve("copy.mlpackage");
        try (Stream<Path> files = Files.walk(fixture())) {
            for (Path f : files.toList()) {
                Path t = copy.resolve(fixture().relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t);
                }
            }
        }
        String original = CompiledModelCache.packageDigest(copy);
        Path weights = copy.resolve("Data/com.apple.CoreML/weights/weight.bin");

        byte[] w = Files.readAllBytes(weights);
        w[w.length - 1] ^= 1;
        Files.write(weights, w);
        String flipped = CompiledModelCache.packageDigest(copy);
        w[w.length - 1] ^= 1;
        Files.write(weights, w);
        assertThat(CompiledModelCache.packageDigest(copy)).isEqualTo(original);
        Files.move(weights, weights.resolveSibling("weight2.bin"));
        String renamed = CompiledModelCache.packageDigest(copy);

        assertThat(List.of(flipped, renamed)).doesNotContain(original).doesNotHaveDuplicates();
    }

    @Test
    void refusesSymlinksInsideThePackage() throws Exception {
        Path pkg = Files.createDirectories(dir.resolve("l.mlpackage"));
        Files.writeString(pkg.resolve("Manifest.json"), "{}");
        Files.createSymbolicLink(pkg.resolve("Data"), Path.of("/etc"));

        assertThatThrownBy(() -> CompiledModelCache.packageDigest(pkg))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageContaining("contains Data, which is not a regular file");
    }

    /** A fake Core ML compiler: writes a one-file .mlmodelc into a temp directory, as the real one does. */
    Path compile(Path mlpackage) {
        try {
            Path out = Files.createTempDirectory(dir, "coreml-").resolve("m.mlmodelc");
            Files.createDirectories(out);
            Files.writeString(out.resolve("coremldata.bin"), "compiled");
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Another agent process sharing the directory compiled the same package first: theirs is kept. */
    @Test
    void anotherProcessWinningTheRaceIsNotAnError() throws Exception {
        CompiledModelCache cache = new CompiledModelCache(dir.resolve("compiled"), "24A335");
        Path target = cache.keyFor(fixture());

        Path got = cache.compiled(fixture(), pkg -> {
            Path produced = compile(pkg);
            new CompiledModelCache(dir.resolve("compiled"), "24A335").compiled(pkg, this::compile); // the other process
            return produced;
        });

        assertThat(got).isEqualTo(target);
        assertThat(target.resolve("coremldata.bin")).hasContent("compiled");
        try (Stream<Path> s = Files.list(target.getParent())) {
            assertThat(s.toList()).as("staging left behind").containsExactly(target);
        }
    }

    /** Something other than a compiled model where one belongs (a file, an empty directory) is replaced. */
    @Test
    void aBrokenEntryIsReplacedNotFatal() throws Exception {
        CompiledModelCache cache = new CompiledModelCache(dir.resolve("compiled"), "24A335");
        Path target = cache.keyFor(fixture());
        Files.createDirectories(target.getParent());
        Files.writeString(target, "not a model");

        assertThat(cache.compiled(fixture(), this::compile)).isEqualTo(target);
        assertThat(target.resolve("coremldata.bin")).hasContent("compiled");

        CompiledModelCache fresh = new CompiledModelCache(dir.resolve("compiled2"), "24A335");
        Files.createDirectories(fresh.keyFor(fixture()));
        assertThat(fresh.compiled(fixture(), this::compile).resolve("coremldata.bin")).hasContent("compiled");
    }
}

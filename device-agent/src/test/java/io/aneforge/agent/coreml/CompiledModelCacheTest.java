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
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cache keys for compiled models, on the real tiny_fp16 package from coremltools; eviction, in-use marks and
 * leftovers on real directories, with a stand-in compiler that writes a model directory as Core ML's does and real
 * processes ({@code sleep}) playing other agents.
 */
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
        CompiledModelCache compiled = new CompiledModelCache(dir.resolve("compiled"), "24A335", 1 << 20);
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
        CompiledModelCache cache = new CompiledModelCache(dir.resolve("compiled"), "24A335", 1 << 20);
        Path target = cache.keyFor(fixture());

        try (CompiledModelCache.CompiledModel got = cache.compiled(fixture(), pkg -> {
            Path produced = compile(pkg);
            new CompiledModelCache(dir.resolve("compiled"), "24A335", 1 << 20).compiled(pkg, this::compile)
                    .close(); // the other process
            return produced;
        })) {
            assertThat(got.path()).isEqualTo(target);
        }

        assertThat(target.resolve("coremldata.bin")).hasContent("compiled");
        assertThat(list(target.getParent())).as("staging or in-use marks left behind").containsExactly(target);
    }

    /** Something other than a compiled model where one belongs (a file, an empty directory) is replaced. */
    @Test
    void aBrokenEntryIsReplacedNotFatal() throws Exception {
        CompiledModelCache cache = new CompiledModelCache(dir.resolve("compiled"), "24A335", 1 << 20);
        Path target = cache.keyFor(fixture());
        Files.createDirectories(target.getParent());
        Files.writeString(target, "not a model");

        assertThat(cache.compiled(fixture(), this::compile).path()).isEqualTo(target);
        assertThat(target.resolve("coremldata.bin")).hasContent("compiled");

        CompiledModelCache fresh = new CompiledModelCache(dir.resolve("compiled2"), "24A335", 1 << 20);
        Files.createDirectories(fresh.keyFor(fixture()));
        assertThat(fresh.compiled(fixture(), this::compile).path().resolve("coremldata.bin")).hasContent("compiled");
    }

    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };
    private final List<String> compiles = new ArrayList<>();

    private void later() {
        now = now.plus(Duration.ofMinutes(1));
    }

    private CompiledModelCache cache(ProcessHandle agent, long maxBytes) {
        return new CompiledModelCache(dir.resolve("compiled"), "24A335", maxBytes, agent, clock);
    }

    /** A package whose weight.bin holds {@code weightBytes} bytes that differ per name. */
    private Path pkg(String name, int weightBytes) throws Exception {
        Path p = dir.resolve("packages").resolve(name + ".mlpackage");
        Files.createDirectories(p.resolve("Data/com.apple.CoreML/weights"));
        Files.writeString(p.resolve("Manifest.json"), "{\"fileFormatVersion\":\"1.0.0\"}");
        byte[] weights = new byte[weightBytes];
        Arrays.fill(weights, (byte) name.charAt(0));
        Files.write(p.resolve("Data/com.apple.CoreML/weights/weight.bin"), weights);
        return p;
    }

    /** Compiles as Core ML does, into a temporary directory, with the package's weights copied into the model. */
    private Path compileLikeCoreMl(Path mlpackage) {
        compiles.add(mlpackage.getFileName().toString());
        try {
            Path out = Files.createTempDirectory(dir, "coreml-").resolve("model.mlmodelc");
            Files.createDirectories(out.resolve("weights"));
            Files.writeString(out.resolve("coremldata.bin"), "compiled " + mlpackage.getFileName());
            Files.copy(mlpackage.resolve("Data/com.apple.CoreML/weights/weight.bin"), out.resolve("weights/weight.bin"));
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void use(CompiledModelCache cache, Path mlpackage) {
        cache.compiled(mlpackage, this::compileLikeCoreMl).close();
    }

    private static List<Path> list(Path directory) throws Exception {
        try (Stream<Path> s = Files.list(directory)) {
            return s.sorted().toList();
        }
    }

    private List<String> marks() throws Exception {
        return list(dir.resolve("compiled/24A335")).stream().map(p -> p.getFileName().toString())
                .filter(n -> n.contains(CompiledModelCache.IN_USE)).toList();
    }

    private static String owner(ProcessHandle process) {
        return process.pid() + "-" + process.info().startInstant().orElseThrow().toEpochMilli() + "-";
    }

    @Test
    void evictsTheLeastRecentlyUsedModelsAboveTheCapAlsoAfterARestart() throws Exception {
        Path a = pkg("a", 1000);
        Path b = pkg("b", 1000);
        Path c = pkg("c", 1000);
        CompiledModelCache cache = cache(ProcessHandle.current(), 2500); // room for two models of ~1 KB
        use(cache, a);
        later();
        use(cache, b);
        later();
        use(cache, a); // a hit: a is now more recent than b
        later();

        use(cache, c);

        assertThat(compiles).containsExactly("a.mlpackage", "b.mlpackage", "c.mlpackage");
        assertThat(cache.keyFor(b)).doesNotExist();
        assertThat(cache.keyFor(a).resolve("coremldata.bin")).hasContent("compiled a.mlpackage");
        assertThat(cache.keyFor(c)).isDirectory();
        assertThat(cache.sizeBytes()).isBetween(2000L, 2500L);
        assertThat(list(dir.resolve("compiled/24A335"))).as("no work directories or marks left")
                .containsExactlyInAnyOrder(cache.keyFor(a), cache.keyFor(c));

        // the order lives in the directories' times: a restart with a lower cap keeps the most recent one
        CompiledModelCache restarted = cache(ProcessHandle.current(), 1500);
        assertThat(restarted.keyFor(a)).doesNotExist();
        assertThat(restarted.keyFor(c)).isDirectory();
        assertThat(restarted.sizeBytes()).isLessThanOrEqualTo(1500);
    }

    /** The model a job has loaded stays while the job runs, even when the cache goes over its cap for it. */
    @Test
    void aModelInUseIsNotEvictedUntilItsHandleIsClosed() throws Exception {
        Path a = pkg("a", 1000);
        Path b = pkg("b", 1000);
        Path c = pkg("c", 1000);
        CompiledModelCache cache = cache(ProcessHandle.current(), 1500); // room for one model
        CompiledModelCache.CompiledModel benchmarked = cache.compiled(a, this::compileLikeCoreMl);
        later();
        use(cache, b);
        later();
        use(cache, c);

        assertThat(benchmarked.path().resolve("coremldata.bin")).hasContent("compiled a.mlpackage");
        assertThat(benchmarked.path().resolve("weights/weight.bin")).hasSize(1000);
        assertThat(cache.keyFor(b)).as("not in use, least recently used").doesNotExist();
        assertThat(cache.keyFor(c)).isDirectory();
        assertThat(marks()).hasSize(1);

        benchmarked.close();
        benchmarked.close(); // twice is harmless
        later();
        use(cache, b);

        assertThat(cache.keyFor(a)).doesNotExist();
        assertThat(cache.keyFor(c)).doesNotExist();
        assertThat(cache.keyFor(b)).isDirectory();
        assertThat(marks()).isEmpty();
    }

    /** Agents may share the directory: one agent's eviction keeps what another has in use, while it runs. */
    @Test
    void anotherAgentsModelInUseIsKeptUntilThatAgentEnds() throws Exception {
        Path a = pkg("a", 1000);
        Path b = pkg("b", 1000);
        Path c = pkg("c", 1000);
        Process otherAgent = new ProcessBuilder("sleep", "300").start();
        try {
            CompiledModelCache theirs = cache(otherAgent.toHandle(), 1500);
            theirs.compiled(a, this::compileLikeCoreMl); // never closed: that agent is killed while it holds it
            later();
            CompiledModelCache mine = cache(ProcessHandle.current(), 1500);
            use(mine, b);

            assertThat(mine.keyFor(a).resolve("coremldata.bin")).hasContent("compiled a.mlpackage");
            assertThat(marks()).singleElement().asString().contains(CompiledModelCache.IN_USE + owner(otherAgent.toHandle()));

            otherAgent.destroy();
            otherAgent.waitFor();
            later();
            use(mine, c);

            assertThat(mine.keyFor(a)).as("its agent has ended").doesNotExist();
            assertThat(list(dir.resolve("compiled/24A335"))).as("the dead agent's mark is removed too")
                    .containsExactly(mine.keyFor(c));
        } finally {
            otherAgent.destroyForcibly();
        }
    }

    /** A pid names another process once its agent has ended and the pid was reused: the start time tells them apart. */
    @Test
    void aMarkOfAReusedPidOrOfUnknownFormIsStale() throws Exception {
        Path a = pkg("a", 1000);
        Path b = pkg("b", 1000);
        CompiledModelCache cache = cache(ProcessHandle.current(), 1500);
        use(cache, a);
        long myStart = ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();
        Path model = cache.keyFor(a);
        Files.createFile(model.resolveSibling(model.getFileName() + CompiledModelCache.IN_USE
                + ProcessHandle.current().pid() + "-" + (myStart - 3_600_000) + "-1"));
        Files.createFile(model.resolveSibling(model.getFileName() + CompiledModelCache.IN_USE + "by-hand"));
        later();

        use(cache, b);

        assertThat(model).doesNotExist();
        assertThat(list(dir.resolve("compiled/24A335"))).containsExactly(cache.keyFor(b));
    }

    /**
     * What an agent killed mid-compile or mid-eviction leaves (a partial copy in its work directory) is deleted when
     * a cache starts on the directory; the work directory of another agent still running is its compile in flight.
     */
    @Test
    void leftoversOfAKilledAgentAreRemovedWhenTheCacheStarts() throws Exception {
        Process killed = new ProcessBuilder("sleep", "300").start();
        String dead = owner(killed.toHandle());
        killed.destroyForcibly();
        killed.waitFor();
        Process running = new ProcessBuilder("sleep", "300").start();
        try {
            Path build = dir.resolve("compiled/24A335");
            Path olderBuild = dir.resolve("compiled/23F79");
            Path interruptedCompile = build.resolve(CompiledModelCache.COMPILING + dead + "4711");
            Path interruptedEviction = olderBuild.resolve(CompiledModelCache.EVICTING + dead + "4712");
            Path inFlight = build.resolve(CompiledModelCache.COMPILING + owner(running.toHandle()) + "4713");
            for (Path work : List.of(interruptedCompile, interruptedEviction, inFlight)) {
                Files.createDirectories(work.resolve("m.mlmodelc/weights"));
                Files.write(work.resolve("m.mlmodelc/weights/weight.bin"), new byte[4096]);
            }

            cache(ProcessHandle.current(), 1 << 20);

            assertThat(interruptedCompile).doesNotExist();
            assertThat(interruptedEviction).doesNotExist();
            assertThat(inFlight.resolve("m.mlmodelc/weights/weight.bin")).hasSize(4096);
        } finally {
            running.destroyForcibly();
        }
    }

    /** A compile whose copy fails (a full disk) leaves no partial copy behind, and the model is not marked in use. */
    @Test
    void aFailedCopyLeavesNothingBehind() throws Exception {
        Path a = pkg("a", 1000);
        CompiledModelCache cache = cache(ProcessHandle.current(), 1 << 20);

        assertThatThrownBy(() -> cache.compiled(a, pkg -> {
            Path out = compileLikeCoreMl(pkg);
            try {
                // a dangling symbolic link: the copy fails on it after copying the files before it
                Files.createSymbolicLink(out.resolve("zz-link"), dir.resolve("nowhere"));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return out;
        })).isInstanceOf(RuntimeLoadException.class).hasMessageContaining("cannot cache the compiled model of " + a);

        assertThat(list(dir.resolve("compiled/24A335"))).isEmpty();
    }
}

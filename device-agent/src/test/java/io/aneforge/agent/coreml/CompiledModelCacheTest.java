package io.aneforge.agent.coreml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.cache.ArtifactCache;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.cache.CachedArtifact;
import io.aneforge.agent.cache.DiskTrouble;
import io.aneforge.agent.cache.UnzipLimits;
import io.aneforge.agent.host.MachineIdentity;
import io.aneforge.runtime.RuntimeLoadException;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
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
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cache keys for compiled models, on the real tiny_fp16 package from coremltools; eviction, in-use marks and
 * leftovers on real directories, with a stand-in compiler that writes a model directory as Core ML's does and real
 * processes playing other agents ({@code sleep}; a second JVM holding the lock, {@link FileLockHolder}).
 */
class CompiledModelCacheTest {

    @TempDir
    Path dir;
    /** This machine's local disk, for the claim's witness (not java.io.tmpdir, which would keep one per test). */
    @TempDir
    Path local;

    /** This host and machine as the agent claims them ({@link CacheClaim.Claimant#thisHost}), the witness in {@code localDir}. */
    static CacheClaim.Claimant thisMachine(String agentName, Path localDir) {
        CacheClaim.Claimant real = CacheClaim.Claimant.thisHost(agentName);
        return new CacheClaim.Claimant(real.host(), real.formerHost(), real.identity(), localDir);
    }

    /** A cache on {@code at} for this host's agent, as the runtime makes it. */
    private CompiledModelCache cacheAt(Path at, long maxBytes) {
        return new CompiledModelCache(at, "24A335", maxBytes, thisMachine("", local), ProcessHandle.current(),
                Clock.systemUTC());
    }

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
        CompiledModelCache compiled = cacheAt(dir.resolve("compiled"), 1 << 20);
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
        CompiledModelCache cache = cacheAt(dir.resolve("compiled"), 1 << 20);
        Path target = cache.keyFor(fixture());

        try (CompiledModelCache.CompiledModel got = cache.compiled(fixture(), pkg -> {
            Path produced = compile(pkg);
            cacheAt(dir.resolve("compiled"), 1 << 20).compiled(pkg, this::compile)
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
        CompiledModelCache cache = cacheAt(dir.resolve("compiled"), 1 << 20);
        Path target = cache.keyFor(fixture());
        Files.createDirectories(target.getParent());
        Files.writeString(target, "not a model");

        assertThat(cache.compiled(fixture(), this::compile).path()).isEqualTo(target);
        assertThat(target.resolve("coremldata.bin")).hasContent("compiled");

        CompiledModelCache fresh = cacheAt(dir.resolve("compiled2"), 1 << 20);
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
        return new CompiledModelCache(dir.resolve("compiled"), "24A335", maxBytes, thisMachine("", local), agent, clock);
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
        try (CompiledModelCache.CompiledModel running = cache.compiled(c, this::compileLikeCoreMl)) {
            assertThat(benchmarked.path().resolve("coremldata.bin")).hasContent("compiled a.mlpackage");
            assertThat(benchmarked.path().resolve("weights/weight.bin")).hasSize(1000);
            assertThat(cache.keyFor(b)).as("not in use, least recently used").doesNotExist();
            assertThat(running.path()).isDirectory();
            assertThat(marks()).hasSize(2);
        }
        // Released while a keeps the cache at its cap: evicted on release (releasingAModelEvictsWhatTheCapNoLongerHolds).
        assertThat(cache.keyFor(c)).doesNotExist();
        assertThat(benchmarked.path().resolve("coremldata.bin")).hasContent("compiled a.mlpackage");
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

    /**
     * A cache over its cap only because models were in use comes back under it when they are released, not at the
     * next compile (which may not come: an agent benchmarking cached models only compiles nothing). The released
     * model that is least recently used goes; one still in use stays.
     */
    @Test
    void releasingAModelEvictsWhatTheCapNoLongerHolds() throws Exception {
        Path a = pkg("a", 1000);
        Path b = pkg("b", 1000);
        Path c = pkg("c", 1000);
        CompiledModelCache cache = cache(ProcessHandle.current(), 1500); // room for one model
        CompiledModelCache.CompiledModel first = cache.compiled(a, this::compileLikeCoreMl);
        later();
        CompiledModelCache.CompiledModel second = cache.compiled(b, this::compileLikeCoreMl);
        later();
        CompiledModelCache.CompiledModel third = cache.compiled(c, this::compileLikeCoreMl);
        assertThat(cache.sizeBytes()).as("three models in use, over the cap").isGreaterThan(3000);

        second.close();
        assertThat(cache.keyFor(b)).as("released and over the cap: evicted at once").doesNotExist();
        assertThat(cache.keyFor(a)).as("older, but still in use").isDirectory();
        assertThat(cache.keyFor(c)).isDirectory();

        third.close();
        assertThat(cache.keyFor(c)).as("the only model not in use").doesNotExist();
        assertThat(cache.keyFor(a)).isDirectory();
        assertThat(cache.sizeBytes()).isLessThanOrEqualTo(1500);

        first.close();
        first.close(); // twice is harmless
        assertThat(cache.keyFor(a)).as("back under the cap: nothing more to evict").isDirectory();
        assertThat(marks()).isEmpty();
        assertThat(compiles).containsExactly("a.mlpackage", "b.mlpackage", "c.mlpackage");
    }

    /** A release never fails for eviction: a model that cannot be moved is left (logged) and the close returns. */
    @Test
    void aReleaseWhoseEvictionFailsStillEndsTheUse() throws Exception {
        Path a = pkg("a", 1000);
        Path b = pkg("b", 1000);
        CompiledModelCache cache = cache(ProcessHandle.current(), 1500);
        CompiledModelCache.CompiledModel first = cache.compiled(a, this::compileLikeCoreMl);
        later();
        CompiledModelCache.CompiledModel second = cache.compiled(b, this::compileLikeCoreMl);
        Runnable unpin = pin(cache.keyFor(a));
        try {
            first.close();
        } finally {
            unpin.run();
        }
        assertThat(cache.keyFor(a)).as("could not be moved: left").isDirectory();
        assertThat(marks()).as("the use ended all the same").hasSize(1);
        second.close();
        assertThat(cache.keyFor(a)).as("the next pass, at the next release, evicts it").doesNotExist();
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

    /**
     * A directory is one host's: an agent elsewhere (a network home, a container with its own pid namespace) cannot
     * see this host's processes and would take its marks and copies for an ended agent's. It is refused, as this
     * host's trouble, and touches nothing. (Who counts as this host: {@link CacheClaimTest}.)
     */
    @Test
    void aDirectoryOfAnotherHostIsRefusedAndLeftAlone() throws Exception {
        Path a = pkg("a", 1000);
        Path b = pkg("b", 1000);
        CompiledModelCache mine = new CompiledModelCache(dir.resolve("compiled"), "24A335", 1500,
                CacheClaimTest.claimant("mac-a", CacheClaimTest.MAC_A, local), ProcessHandle.current(), clock);
        CompiledModelCache.CompiledModel inUse = mine.compiled(a, this::compileLikeCoreMl);
        Path hostFile = dir.resolve("compiled").resolve(CacheClaim.FILE);
        String claim = Files.readString(hostFile);
        assertThat(claim).contains("\nmachine " + CacheClaimTest.MAC_A.machine() + "\n").endsWith("\nhost mac-a\n");
        List<Path> before = list(dir.resolve("compiled/24A335"));

        // the other host's agent has a process with this very pid and start time: without the claim, it is "alive"
        assertThatThrownBy(() -> new CompiledModelCache(dir.resolve("compiled"), "24A335", 1,
                CacheClaimTest.claimant("mac-b", CacheClaimTest.MAC_B, local), ProcessHandle.current(), clock))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageStartingWith("the compiled-model cache " + dir.resolve("compiled") + " belongs to host 'mac-a'"
                        + " on machine " + CacheClaimTest.MAC_A.machine() + " (" + hostFile + "), and this agent runs as"
                        + " host 'mac-b' on machine " + CacheClaimTest.MAC_B.machine() + ": another machine.")
                .hasCauseInstanceOf(AccessDeniedException.class)
                .satisfies(e -> assertThat(DiskTrouble.in(e)).as("this host's trouble, not the model's").isTrue());
        assertThat(list(dir.resolve("compiled/24A335"))).isEqualTo(before);
        assertThat(hostFile).hasContent(claim);

        // each pass looks: a directory taken over while this agent ran is refused too, and no mark is left
        Files.writeString(hostFile, "mac-b\n");
        assertThatThrownBy(() -> mine.compiled(b, this::compileLikeCoreMl)).isInstanceOf(RuntimeLoadException.class)
                .hasMessageContaining("belongs to host 'mac-b'");
        assertThat(compiles).containsExactly("a.mlpackage");
        assertThat(list(dir.resolve("compiled/24A335"))).isEqualTo(before);
        inUse.close();

        // another directory for the other host
        CompiledModelCache theirs = new CompiledModelCache(dir.resolve("compiled-b"), "24A335", 1500,
                CacheClaimTest.claimant("mac-b", CacheClaimTest.MAC_B, local), ProcessHandle.current(), clock);
        use(theirs, b);
        assertThat(Files.readString(dir.resolve("compiled-b").resolve(CacheClaim.FILE))).endsWith("\nhost mac-b\n");
    }

    /**
     * One machine under two names (an agent with {@code aneforge.agent.host-name}, another with the OS's name) shares
     * the directory: the models one compiled are the other's hits. With this machine's own identity where it can be
     * read (Linux here: /etc/machine-id, the boot id and the pid namespace), else with recorded ones.
     */
    @Test
    void oneMachineUnderTwoNamesSharesTheDirectoryAndItsModels() throws Exception {
        Path a = pkg("a", 1000);
        CacheClaim.Claimant named = CacheClaimTest.claimant("studio-7", CacheClaimTest.MAC_A, local);
        CacheClaim.Claimant osNamed = CacheClaimTest.claimant("mac-a.local", CacheClaimTest.MAC_A, local);
        if (Files.isReadable(Path.of("/proc/sys/kernel/hostname"))
                && CacheClaim.Claimant.thisHost("").identity().found().isPresent()) {
            named = thisMachine("ns-a.aneforge-agent-0", local);
            osNamed = thisMachine("", local);
        }
        Path compiled = dir.resolve("compiled");
        use(new CompiledModelCache(compiled, "24A335", 1500, named, ProcessHandle.current(), clock), a);
        use(new CompiledModelCache(compiled, "24A335", 1500, osNamed, ProcessHandle.current(), clock), a);

        assertThat(compiles).as("compiled once, a hit for the machine's other name").containsExactly("a.mlpackage");
        assertThat(Files.readString(compiled.resolve(CacheClaim.FILE)))
                .endsWith("\nhost " + named.host() + "\nhost " + osNamed.host() + "\n");
    }

    /** A directory claimed by the host's OS name, before the agent was given a name of its own, stays this host's. */
    @Test
    void aClaimByTheOsNameOfThisHostPassesToTheAgentsOwnName() throws Exception {
        Path a = pkg("a", 1000);
        Path compiled = dir.resolve("compiled");
        CompiledModelCache before = new CompiledModelCache(compiled, "24A335", 1500,
                CacheClaimTest.byName("mac-a", null, local), ProcessHandle.current(), clock);
        use(before, a);
        Path hostFile = compiled.resolve(CacheClaim.FILE);
        assertThat(hostFile).hasContent("mac-a");

        CompiledModelCache named = new CompiledModelCache(compiled, "24A335", 1500, new CacheClaim.Claimant("studio-7",
                "mac-a", MachineIdentity.Reading.of(CacheClaimTest.MAC_A), local), ProcessHandle.current(), clock);
        assertThat(Files.readString(hostFile)).endsWith("\nhost mac-a\nhost studio-7\n");
        use(named, a);
        assertThat(compiles).as("the model compiled before is still there").containsExactly("a.mlpackage");
    }

    /**
     * Makes {@code directory} impossible to move to another directory, as a model locked by hand ({@code chflags
     * uchg}) or owned by another user is: immutable where the test runs as root on Linux, else read-only (moving a
     * directory elsewhere rewrites its "..").
     */
    private static Runnable pin(Path directory) throws Exception {
        Runnable unpin;
        if (run("chattr", "+i", directory.toString())) {
            unpin = () -> run("chattr", "-i", directory.toString());
        } else {
            Set<PosixFilePermission> was = Files.getPosixFilePermissions(directory);
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("r-xr-xr-x"));
            unpin = () -> {
                try {
                    Files.setPosixFilePermissions(directory, was);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
        }
        Path probe = directory.resolveSibling("probe").resolve("moved");
        Files.createDirectories(probe.getParent());
        try {
            Files.move(directory, probe);
            Files.move(probe, directory);
            unpin.run();
            Assumptions.abort("cannot keep a directory from being moved here");
        } catch (java.io.IOException expected) {
            // pinned
        } finally {
            Files.delete(probe.getParent());
        }
        return unpin;
    }

    private static boolean run(String... command) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor() == 0;
        } catch (java.io.IOException e) {
            return false; // not installed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * One victim of a pass cannot be moved: it is logged and left, the pass goes on with the next, the model that was
     * moved aside is deleted (it used to stay in its .evicting- directory, counted nowhere, until the agent ended) and
     * the load succeeds. The next pass, once the model can be moved, evicts it.
     */
    @Test
    void aModelThatCannotBeEvictedIsLeftAndTheLoadGoesOn() throws Exception {
        Path a = pkg("a", 500);
        Path b = pkg("b", 500);
        Path c = pkg("c", 1000);
        CompiledModelCache cache = cache(ProcessHandle.current(), 1100);
        use(cache, a);
        later();
        use(cache, b);
        later();
        Runnable unpin = pin(cache.keyFor(b));
        try {
            // c's 1000 bytes leave room for 100: a and b both go, in that order; b cannot
            try (CompiledModelCache.CompiledModel got = cache.compiled(c, this::compileLikeCoreMl)) {
                assertThat(got.path().resolve("coremldata.bin")).hasContent("compiled c.mlpackage");
            }
        } finally {
            unpin.run();
        }
        assertThat(cache.keyFor(a)).doesNotExist();
        assertThat(cache.keyFor(b).resolve("coremldata.bin")).hasContent("compiled b.mlpackage");
        assertThat(list(dir.resolve("compiled/24A335"))).as("nothing moved aside is left, not even an empty directory")
                .containsExactlyInAnyOrder(cache.keyFor(b), cache.keyFor(c));
        assertThat(cache.sizeBytes()).as("over the cap while b cannot go: b 520 + c 1020 bytes").isEqualTo(1540);

        later();
        cache(ProcessHandle.current(), 1100);
        assertThat(list(dir.resolve("compiled/24A335"))).containsExactly(cache.keyFor(c));
    }

    /**
     * An ended agent's leftover that cannot be deleted is logged and left: the pass goes on and evicts what it must,
     * and the load succeeds. A later pass deletes the leftover once it can.
     */
    @Test
    void aLeftoverThatCannotBeDeletedDoesNotStopThePass() throws Exception {
        Path a = pkg("a", 1000);
        Path b = pkg("b", 1000);
        Process killed = new ProcessBuilder("sleep", "300").start();
        String dead = owner(killed.toHandle());
        killed.destroyForcibly();
        killed.waitFor();
        Path leftover = dir.resolve("compiled/24A335").resolve(CompiledModelCache.COMPILING + dead + "4711");
        Files.createDirectories(leftover.resolve("m.mlmodelc/weights"));
        Files.write(leftover.resolve("m.mlmodelc/weights/weight.bin"), new byte[4096]);
        Runnable unpin = pin(leftover.resolve("m.mlmodelc/weights"));
        try {
            CompiledModelCache cache = cache(ProcessHandle.current(), 1500);
            use(cache, a);
            later();
            try (CompiledModelCache.CompiledModel got = cache.compiled(b, this::compileLikeCoreMl)) {
                assertThat(got.path().resolve("coremldata.bin")).hasContent("compiled b.mlpackage");
            }
            assertThat(cache.keyFor(a)).as("evicted all the same").doesNotExist();
            assertThat(leftover.resolve("m.mlmodelc/weights/weight.bin")).hasSize(4096);
        } finally {
            unpin.run();
        }
        CompiledModelCache restarted = cache(ProcessHandle.current(), 1500);
        assertThat(list(dir.resolve("compiled/24A335"))).containsExactly(restarted.keyFor(b));
    }

    /** Two instances on one directory under two names, in one JVM: the JDK's file lock is the JVM's, taken once at a time. */
    @Test
    void twoSpellingsOfOneDirectoryShareTheLock() throws Exception {
        Path real = Files.createDirectories(dir.resolve("compiled"));
        Path alias = Files.createSymbolicLink(dir.resolve("alias"), real);
        Path a = pkg("a", 10);
        CompiledModelCache one = cacheAt(real, 1 << 20);
        CompiledModelCache two = cacheAt(alias, 1 << 20);
        one.compiled(a, this::compileLikeCoreMl).close();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (CompiledModelCache cache : List.of(one, two)) {
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < 1000 && failure.get() == null; i++) {
                        cache.compiled(a, this::compileLikeCoreMl).close();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failure.get()).isNull();
        assertThat(compiles).containsExactly("a.mlpackage");
        assertThat(marks()).isEmpty();
    }

    /**
     * The lock is real between processes: while another JVM holds {@code .lock} (as a second agent's pass does), a
     * compile and a new cache's first pass wait, touching nothing; both go on once it lets go.
     */
    @Test
    void anotherProcessHoldingTheLockMakesCompilesAndPassesWait() throws Exception {
        Path a = pkg("a", 1000);
        CompiledModelCache cache = cache(ProcessHandle.current(), 1 << 20);
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), FileLockHolder.class.getName(),
                dir.resolve("compiled").resolve(CompiledModelCache.LOCK_FILE).toString())
                .redirectErrorStream(true).start();
        ExecutorService agentThreads = Executors.newFixedThreadPool(2);
        try {
            BufferedReader said = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertThat(said.readLine()).isEqualTo("locked");

            Future<Path> compile = agentThreads.submit(() -> {
                try (CompiledModelCache.CompiledModel m = cache.compiled(a, this::compileLikeCoreMl)) {
                    return m.path();
                }
            });
            Future<CompiledModelCache> start = agentThreads.submit(() -> cache(ProcessHandle.current(), 1 << 20));
            assertThatThrownBy(() -> compile.get(2, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(start.isDone()).isFalse();
            assertThat(compiles).isEmpty();
            assertThat(list(dir.resolve("compiled/24A335"))).as("not even a mark before the lock").isEmpty();

            holder.getOutputStream().close();
            assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(holder.exitValue()).isZero();
            assertThat(compile.get(30, TimeUnit.SECONDS)).isEqualTo(cache.keyFor(a));
            assertThat(start.get(30, TimeUnit.SECONDS).keyFor(a).resolve("coremldata.bin")).hasContent("compiled a.mlpackage");
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        } finally {
            holder.destroyForcibly();
            agentThreads.shutdownNow();
        }
    }
}

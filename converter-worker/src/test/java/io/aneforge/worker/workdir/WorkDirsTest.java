package io.aneforge.worker.workdir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.worker.WorkerProperties;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Work directories left by a killed worker are deleted, those a live worker uses are not: another worker
 * process on the host (a real second JVM holding the lock), this worker, or another worker in this JVM.
 */
class WorkDirsTest {

    @TempDir
    Path root;

    private WorkDirs workDirs() {
        return new WorkDirs(new WorkerProperties(URI.create("http://127.0.0.1:1"), "token", "w1", 1, root,
                Duration.ofSeconds(1), false));
    }

    /** A directory with a package in it, as a worker leaves it mid-conversion. */
    private Path leftover(long id) throws Exception {
        Path dir = root.resolve("conversion-" + id);
        Files.createDirectories(dir.resolve("a14-ios16-ane-fp16-s32.mlpackage"));
        Files.write(dir.resolve("a14-ios16-ane-fp16-s32.mlpackage.zip"), new byte[1024]);
        return dir;
    }

    private static Process holdLock(Path dir) throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
                LockHolder.class.getName(), dir.toString()).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("locked");
        return p;
    }

    @Test
    void aSweepDeletesOnlyDirectoriesNoLiveProcessUses() throws Exception {
        Path stale = leftover(7);
        Path otherProcess = leftover(8);
        Files.createDirectories(root.resolve("not-a-conversion"));
        Process other = holdLock(otherProcess);
        try {
            WorkDirs mine = workDirs();
            Path claimed = mine.claim(9);
            Files.write(claimed.resolve("golden.bin"), new byte[16]);
            WorkDirs sameJvm = workDirs(); // a second worker in this JVM sharing the work directory

            assertThat(sameJvm.sweep()).containsExactly(7L);
            assertThat(stale).doesNotExist();
            assertThat(otherProcess).as("held by another live process").exists();
            assertThat(claimed.resolve("golden.bin")).as("held by a worker in this JVM").exists();
            assertThat(mine.sweep()).isEmpty();
            assertThat(root.resolve("not-a-conversion")).exists();

            assertThatThrownBy(() -> mine.claim(8)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("in use by another process");

            other.destroyForcibly(); // kill -9: the OS releases its lock
            assertThat(other.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(mine.sweep()).containsExactly(8L);
            assertThat(otherProcess).doesNotExist();

            mine.release(9);
            assertThat(claimed).as("released: deleted").doesNotExist();
            assertThat(mine.claim(8)).exists();
            mine.release(8);
            try (var left = Files.list(root)) {
                assertThat(left.map(p -> p.getFileName().toString()).toList())
                        .containsExactlyInAnyOrder("not-a-conversion", ".lock");
            }
        } finally {
            other.destroyForcibly();
        }
    }

    /** Whether another process could take the directory's lock right now (a second JVM tries it once). */
    private static String tryLockFromAnotherProcess(Path dir) throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
                LockHolder.class.getName(), dir.toString(), "try").redirectErrorStream(true).start();
        String answer = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return answer;
    }

    @Test
    void anotherWorkerInThisJvmNeverDropsTheLockOfAClaimedDirectory() throws Exception {
        // POSIX locks belong to the process: closing any channel on the file releases every lock the JVM holds
        // on it. A sweep or claim by a second worker in this JVM must not open (and close) one.
        WorkDirs mine = workDirs();
        Path claimed = mine.claim(9);
        WorkDirs sameJvm = workDirs();
        assertThat(sameJvm.sweep()).isEmpty();
        assertThatThrownBy(() -> sameJvm.claim(9)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("in use");
        assertThat(tryLockFromAnotherProcess(claimed)).as("the OS lock is still held after the sweep and the claim")
                .isEqualTo("busy");
        assertThat(sameJvm.sweep()).isEmpty();
        assertThat(claimed).exists();
        mine.release(9);
        assertThat(claimed).doesNotExist();
        assertThat(sameJvm.claim(9)).exists();
        sameJvm.release(9);
    }

    @Test
    void aLeftoverDirectoryOfTheConversionBeingClaimedIsReused() throws Exception {
        Path dir = leftover(11);
        WorkDirs w = workDirs();
        assertThat(w.claim(11)).isEqualTo(dir);
        assertThat(w.sweep()).isEmpty();
        assertThat(dir.resolve("a14-ios16-ane-fp16-s32.mlpackage.zip")).exists();
        w.release(11);
        assertThat(dir).doesNotExist();
        assertThat(List.of(w.sweep())).containsExactly(List.of());
    }
}

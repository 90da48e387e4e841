package io.aneforge.agent.instance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Slots under the conditions review g found (a second claim in one JVM, damaged or unusable slot files). */
class AgentInstanceSlotTest {

    @TempDir
    Path cache;

    private String otherId() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), InstanceHolder.class.getName(), cache.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader said = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = said.readLine();
        while (line != null && !line.startsWith("instance ")) line = said.readLine();
        p.getOutputStream().close();
        p.waitFor(30, TimeUnit.SECONDS);
        return line.split(" ")[1];
    }

    /** Two claims in one JVM, then a real other process: it must not get the first claim's id. */
    @Test
    void aSecondClaimInOneJvmKeepsTheFirstSlotLockedForOtherProcesses() throws Exception {
        try (AgentInstance first = AgentInstance.claim(cache); AgentInstance second = AgentInstance.claim(cache)) {
            assertThat(second.id()).isNotEqualTo(first.id());
            String other = otherId();
            assertThat(other).as("another process while the first claim runs").isNotEqualTo(first.id().toString());
        }
    }

    /** "An unreadable one is replaced": an id file that is not UTF-8. */
    @Test
    void anIdFileThatIsNotUtf8IsReplaced() throws Exception {
        Files.createDirectories(cache.resolve("instance"));
        Files.write(cache.resolve("instance/0.id"), new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});
        try (AgentInstance a = AgentInstance.claim(cache)) {
            assertThat(a.lasting()).as("replaced, lasting").isTrue();
        }
    }

    /** A slot that cannot be used (its id file is a directory) is skipped for the next one, not the whole directory. */
    @Test
    void aSlotThatCannotBeUsedIsSkippedForTheNext() throws Exception {
        Files.createDirectories(cache.resolve("instance/0.id"));
        try (AgentInstance a = AgentInstance.claim(cache)) {
            assertThat(a.lasting()).as("slot 1 rather than an id of this run only").isTrue();
            assertThat(a.toString()).contains("slot 1");
            assertThat(Files.readString(cache.resolve("instance/1.id")).strip()).isEqualTo(a.id().toString());
        }
    }
}

package io.aneforge.agent.instance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Instance ids on a real cache directory, with other agent processes played by real JVMs ({@link InstanceHolder}). */
class AgentInstanceTest {

    @TempDir
    Path cache;

    /** Another agent process on {@code cache}: its id and whether it lasts, once it holds it. */
    private record Other(Process process, UUID id, boolean lasting) {
        void stop() throws InterruptedException {
            try {
                process.getOutputStream().close();
            } catch (java.io.IOException e) {
                // ended already
            }
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    private Other otherProcess() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), InstanceHolder.class.getName(), cache.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader said = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = said.readLine();
        while (line != null && !line.startsWith("instance ")) {
            line = said.readLine(); // its log lines
        }
        assertThat(line).as("the other agent's id").isNotNull();
        String[] parts = line.split(" ");
        return new Other(p, UUID.fromString(parts[1]), Boolean.parseBoolean(parts[2]));
    }

    @Test
    void aRestartOnTheSameDirectoryGetsTheSameIdAndASecondProcessAnotherOne() throws Exception {
        Other first = otherProcess();
        assertThat(first.lasting()).isTrue();
        UUID mine;
        try (AgentInstance second = AgentInstance.claim(cache)) {
            mine = second.id();
            assertThat(mine).as("a second process on the directory while the first runs").isNotEqualTo(first.id());
            assertThat(second.lasting()).isTrue();
        } finally {
            first.stop();
        }
        Other restarted = otherProcess();
        try {
            assertThat(restarted.id()).as("the first slot is free again: the restart is the first instance")
                    .isEqualTo(first.id());
        } finally {
            restarted.stop();
        }
        try (AgentInstance again = AgentInstance.claim(cache)) {
            assertThat(again.id()).as("alone on the directory: the first slot's id").isEqualTo(first.id());
        }
        assertThat(Files.readString(cache.resolve("instance/0.id")).strip()).isEqualTo(first.id().toString());
        assertThat(Files.readString(cache.resolve("instance/1.id")).strip()).isEqualTo(mine.toString());
    }

    @Test
    void aProcessThatEndsWithoutClosingLeavesItsIdToTheNextOne() throws Exception {
        Other killed = otherProcess();
        killed.process().destroyForcibly();
        assertThat(killed.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        try (AgentInstance next = AgentInstance.claim(cache)) {
            assertThat(next.id()).as("the OS let go of the lock of the killed process").isEqualTo(killed.id());
        }
    }

    @Test
    void everySlotHeldGivesAFreshIdForThisRunOnly() {
        List<AgentInstance> held = new ArrayList<>();
        try {
            Set<UUID> ids = new HashSet<>();
            for (int i = 0; i < AgentInstance.SLOTS; i++) {
                AgentInstance a = AgentInstance.claim(cache);
                held.add(a);
                assertThat(a.lasting()).isTrue();
                ids.add(a.id());
            }
            assertThat(ids).as("no two running agents share an id").hasSize(AgentInstance.SLOTS);
            AgentInstance extra = AgentInstance.claim(cache);
            held.add(extra);
            assertThat(extra.lasting()).isFalse();
            assertThat(ids).doesNotContain(extra.id());
        } finally {
            held.forEach(AgentInstance::close);
        }
    }

    @Test
    void anUnreadableIdFileIsReplacedAndAnUnwritableDirectoryStillGivesAnId() throws Exception {
        Files.createDirectories(cache.resolve("instance"));
        Files.writeString(cache.resolve("instance/0.id"), "not an id");
        UUID id;
        try (AgentInstance a = AgentInstance.claim(cache)) {
            id = a.id();
            assertThat(a.lasting()).isTrue();
        }
        assertThat(Files.readString(cache.resolve("instance/0.id")).strip()).isEqualTo(id.toString());

        Path notADirectory = cache.resolve("file");
        Files.writeString(notADirectory, "x");
        try (AgentInstance a = AgentInstance.claim(notADirectory)) {
            assertThat(a.id()).isNotNull();
            assertThat(a.lasting()).as("nowhere to keep it").isFalse();
        }
    }
}

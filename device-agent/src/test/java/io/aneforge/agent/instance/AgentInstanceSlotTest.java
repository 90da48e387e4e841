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

    /**
     * The slot notes the lease call out: a call the process never saw answered is the next claim's to release; an
     * answered one is not (the next process must not release what this one was running); a note that does not read is
     * ignored, and a call noted later replaces it.
     */
    @Test
    void aLeaseCallLeftUnansweredIsTheNextClaimsToRelease() throws Exception {
        String agent = UUID.randomUUID().toString();
        String answered = UUID.randomUUID().toString();
        String unanswered = UUID.randomUUID().toString();
        UUID id;
        try (AgentInstance a = AgentInstance.claim(cache)) {
            id = a.id();
            assertThat(a.unansweredLeaseCall()).as("a fresh slot").isEmpty();
            a.sending(agent, answered);
            a.answered(answered);
            assertThat(cache.resolve("instance/0.request")).as("an answered call leaves no note").doesNotExist();
        }
        try (AgentInstance b = AgentInstance.claim(cache)) {
            assertThat(b.id()).isEqualTo(id);
            assertThat(b.unansweredLeaseCall()).as("the last call was answered").isEmpty();
            b.sending(agent, unanswered); // and the process ends in the call
        }
        try (AgentInstance c = AgentInstance.claim(cache)) {
            assertThat(c.unansweredLeaseCall()).hasValueSatisfying(call -> {
                assertThat(call.agentId()).isEqualTo(agent);
                assertThat(call.request()).isEqualTo(unanswered);
            });
            try (AgentInstance second = AgentInstance.claim(cache)) {
                assertThat(second.unansweredLeaseCall()).as("another slot's note is not this one's").isEmpty();
            }
        }
        Files.writeString(cache.resolve("instance/0.request"), "not a note\n");
        try (AgentInstance d = AgentInstance.claim(cache)) {
            assertThat(d.unansweredLeaseCall()).as("a note that does not read is ignored").isEmpty();
            d.sending(agent, unanswered);
            assertThat(Files.readString(cache.resolve("instance/0.request"))).startsWith(agent + " " + unanswered + " ");
        }
    }
}

package io.aneforge.agent.instance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
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

    /** What AgentInstance logs at WARN while {@code body} runs. */
    private static List<String> warnings(ThrowingRunnable body) throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(AgentInstance.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            body.run();
        } finally {
            logger.detachAppender(logs);
        }
        return logs.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /**
     * Only the note of the call answered goes (review q, finding 4): an answer to another call (a request this process
     * did not note last) leaves the note, and so does an answer before this process noted anything (the previous
     * process's note is not this process's to drop). A release kept for the call drops it too (finding 3).
     */
    @Test
    void onlyTheNoteOfTheCallAnsweredIsDeleted() throws Exception {
        String agent = UUID.randomUUID().toString();
        String first = UUID.randomUUID().toString();
        String other = UUID.randomUUID().toString();
        Path note = cache.resolve("instance/0.request");
        try (AgentInstance a = AgentInstance.claim(cache)) {
            a.sending(agent, first); // and the process ends in the call
        }
        try (AgentInstance b = AgentInstance.claim(cache)) {
            assertThat(b.unansweredLeaseCall()).hasValueSatisfying(c -> assertThat(c.request()).isEqualTo(first));
            b.answered(first);
            assertThat(note).as("the previous process's note: this one noted nothing yet").exists();
            String mine = UUID.randomUUID().toString();
            b.sending(agent, mine);
            b.answered(other);
            b.releaseKept(other);
            assertThat(Files.readString(note)).as("another call's answer leaves the note").startsWith(agent + " " + mine);
            b.releaseKept(mine);
            assertThat(note).as("the call's release is kept: it covers the call").doesNotExist();
            String next = UUID.randomUUID().toString();
            b.sending(agent, next);
            b.answered(mine);
            assertThat(note).as("an answer to a call whose note is gone already").exists();
            b.answered(next);
            assertThat(note).doesNotExist();
        }
    }

    /**
     * A note is read with a bound and must name the agent and the request by UUIDs (they go into the release's URL
     * path): anything else is ignored with a WARN naming the file and what to do, and the slot is claimed all the same.
     */
    @Test
    void aNoteTooBigOrNotNamingUuidsIsIgnoredWithAWarningNamingTheFile() throws Exception {
        Path note = cache.resolve("instance/0.request");
        Files.createDirectories(note.getParent());
        String request = UUID.randomUUID().toString();
        List<String> notes = List.of(
                "x".repeat(1 << 20),
                "../../admin/tokens " + request + " 2026-11-28T10:00:00Z",
                UUID.randomUUID() + " 1-1-1-1-1 2026-11-28T10:00:00Z",
                UUID.randomUUID() + " " + request + " yesterday");
        List<String> reasons = new ArrayList<>();
        for (String text : notes) {
            Files.writeString(note, text);
            List<String> warned = warnings(() -> {
                try (AgentInstance a = AgentInstance.claim(cache)) {
                    assertThat(a.lasting()).isTrue();
                    assertThat(a.unansweredLeaseCall()).as(text.length() > 80 ? "a 1 MiB note" : text).isEmpty();
                }
            });
            assertThat(warned).singleElement().asString().contains("ignored the lease call note " + note,
                    "Nothing to do: the next lease call replaces the note");
            reasons.add(warned.get(0));
        }
        assertThat(reasons.get(0)).contains("more than the limit of " + AgentInstance.MAX_NOTE_BYTES)
                .doesNotContain("xxxxxxxxxx");
        assertThat(reasons.get(1)).contains("the agent id of an unanswered lease call must be a UUID");
        assertThat(reasons.get(2)).contains("the request id of an unanswered lease call must be a UUID");
    }

    /**
     * No slot free: the WARN says how many are held by running agents and how many cannot be used, since the two need
     * different fixes (review q, finding 6), and says "running already" only when all are held.
     */
    @Test
    void noSlotFreeSaysHowManyAreHeldAndHowManyCannotBeUsed() throws Exception {
        for (int n = 0; n < 4; n++) {
            Files.createDirectories(cache.resolve("instance/" + n + ".id")); // unusable: a directory where the id goes
        }
        List<AgentInstance> held = new ArrayList<>();
        try {
            for (int n = 4; n < AgentInstance.SLOTS; n++) {
                held.add(AgentInstance.claim(cache));
            }
            assertThat(held).allMatch(AgentInstance::lasting);
            List<String> warned = warnings(() -> {
                try (AgentInstance extra = AgentInstance.claim(cache)) {
                    assertThat(extra.lasting()).isFalse();
                }
            });
            assertThat(warned).last().asString().contains("none of the 16 instance slots", "12 held by running agent"
                    + " processes, 4 that cannot be used (the last: slot 3", "make the agent's user the owner",
                    "for the held ones, stop agents this host does not need").doesNotContain("running already");
            for (int n = 0; n < 4; n++) {
                Files.delete(cache.resolve("instance/" + n + ".id"));
                held.add(AgentInstance.claim(cache));
            }
            warned = warnings(() -> {
                try (AgentInstance extra = AgentInstance.claim(cache)) {
                    assertThat(extra.lasting()).isFalse();
                }
            });
            assertThat(warned).singleElement().asString().contains("16 agent processes on this cache directory are"
                    + " running already", "stop agents this host does not need").doesNotContain("cannot be used");
        } finally {
            held.forEach(AgentInstance::close);
        }
    }
}

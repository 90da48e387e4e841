package io.aneforge.agent.instance;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import io.aneforge.agent.registry.LeaseCallLog;
import io.aneforge.io.BoundedFiles;
import io.aneforge.agent.registry.UnansweredLeaseCall;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which agent process this is, across restarts: agents on one host share one agent id (the host name, which keeps
 * their results traceable to the host), so the registry tells a restarted agent from a second agent process on the
 * host by this id instead. It is sent at registration and with every lease call; a registration with the id of an
 * earlier process has that process's leases handed back at once (docs/agents.md, "Agent instances").
 *
 * <p>The id lives in the cache directory, in one of {@value #SLOTS} slots: {@code instance/<n>.id}, guarded by
 * {@code instance/<n>.lock}. A process takes the first slot whose lock it can take ({@link FileChannel#tryLock}) and
 * holds that lock until it stops; the operating system lets go of it when the process ends, however it ends. So
 * an id is used by one running process at a time: a second agent on the same cache directory takes the next slot
 * (an id of its own that also survives its restarts), and a restart on the directory, once the old process is gone,
 * finds its slot free and its id there. That is what makes the registry's hand-back safe: whoever holds a slot's id
 * holds its lock, so the leases of that id belong to no running process. Slots are not bound to one process: two
 * agents restarted together may swap slots, and each then hands back the leases of whichever gone process had it.
 *
 * <p>A slot's id file is created once (written beside it and moved into place, so a crash never leaves half an id)
 * and kept; an unreadable one is replaced. When every slot is held, or the directory cannot be written, the process
 * runs with a fresh id of its own that no later process gets, says so in one log line, and its leases, should it die
 * holding them, run out as they did before instance ids.
 *
 * <p>The slot also notes the lease call its process has out ({@link LeaseCallLog}): {@code instance/<n>.request}, the
 * agent id and the call's request id, written before the call is sent and deleted once the registry answered it. A
 * process that ends during the call (nearly always in the long poll, for an idle agent) leaves the note, and the next
 * process on the slot reads it at its claim ({@link #unansweredLeaseCall()}) and releases that request, so a lease
 * granted to the poll of the ended process is handed back instead of running out. Written as the id file is (a file
 * beside it moved into place, no fsync, as the agent's other records): a crash of the host itself may lose the note,
 * and the lease then runs out as before. A note of a call that was answered never outlives the answer, so the next
 * process never releases a lease its predecessor was running (the registration hands those back, counted).
 *
 * <p>Locks on a network file system (NFS, SMB) may not be honoured across hosts; the cache directory is one host's
 * already ({@code aneforge.agent.cache.dir}).
 */
public final class AgentInstance implements AutoCloseable, LeaseCallLog {

    private static final Logger log = LoggerFactory.getLogger(AgentInstance.class);

    /** Far more agent processes than one host runs on one cache directory. */
    static final int SLOTS = 16;
    static final String DIR = "instance";
    /** A note is two ids and a time, about 110 bytes: a bigger file is not one. */
    static final int MAX_NOTE_BYTES = 256;

    /**
     * The slot lock files this JVM holds. Java file locks are POSIX locks on Linux and macOS: closing any channel of
     * a file drops every lock the process holds on it, so a second claim in one JVM (tests, an embedder) must not even
     * open a slot this JVM holds; it skips it here. Guarded by itself.
     */
    private static final Set<Path> HELD = new HashSet<>();

    private final UUID id;
    /** The slot held, or -1 for an id of this run only. */
    private final int slot;
    /** The slot's lock file (a key of {@link #HELD}), or null for an id of this run only. */
    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The slot's note of the lease call out ({@code <n>.request}), or null for an id of this run only. */
    private final Path leaseCallFile;
    /** What the slot's previous process left in {@link #leaseCallFile} when this one claimed it, or null. */
    private final UnansweredLeaseCall leftBehind;
    /** Whether the last note could not be written (logged once at WARN until one can). Loop thread only. */
    private boolean noteFailing;
    /** The request id of the note this process wrote last and has not deleted, or null. Loop thread only. */
    private String noted;

    private AgentInstance(UUID id, int slot, Path lockFile, FileChannel channel, FileLock lock, Path leaseCallFile,
            UnansweredLeaseCall leftBehind) {
        this.id = id;
        this.slot = slot;
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
        this.leaseCallFile = leaseCallFile;
        this.leftBehind = leftBehind;
    }

    /**
     * Takes the first free slot of {@code cacheDir}, or, when none is free or the directory cannot be used, a fresh id
     * for this run. Never fails: an agent without a lasting instance id only loses the hand-back at its restart. A
     * slot that cannot be used (its files owned by another user, a directory where the id file should be) is skipped,
     * with a log line, for the next one.
     */
    public static AgentInstance claim(Path cacheDir) {
        Path dir = cacheDir.resolve(DIR);
        try {
            Files.createDirectories(dir);
        } catch (IOException | RuntimeException e) {
            return ephemeral("cannot keep an instance id in " + dir + " (" + e + "); make aneforge.agent.cache.dir"
                    + " writable by the agent's user");
        }
        // Counted apart: "16 agents are running" would send an operator looking for agents that do not exist when
        // some slots are only unusable (files of another user), which needs another fix.
        int held = 0;
        int unusable = 0;
        String lastProblem = "";
        for (int n = 0; n < SLOTS; n++) {
            Optional<AgentInstance> taken;
            try {
                taken = tryTake(dir, n);
            } catch (IOException | RuntimeException e) {
                log.warn("instance slot {} of {} cannot be used ({}); trying the next. Check that the agent's user owns"
                        + " {}.id and {}.lock there and that they are plain files", n, dir, e.toString(), n, n);
                unusable++;
                lastProblem = "slot " + n + ": " + e;
                continue;
            }
            if (taken.isPresent()) {
                AgentInstance i = taken.get();
                log.info("agent instance {} (slot {} of {}): a restart on this cache directory registers as the same"
                        + " instance, and the registry hands back the leases it held", i.id, n, dir);
                return i;
            }
            held++;
        }
        return ephemeral(noneFree(dir, held, unusable, lastProblem));
    }

    /** Why no slot could be taken, and what to do about each kind of slot that was not free. */
    private static String noneFree(Path dir, int held, int unusable, String lastProblem) {
        String fixHeld = "stop agents this host does not need, or give this one a cache directory of its own"
                + " (aneforge.agent.cache.dir, ANEFORGE_AGENT_CACHE_DIR)";
        if (unusable == 0) {
            return "none of the " + SLOTS + " instance slots of " + dir + " is free: " + held + " agent processes on this"
                    + " cache directory are running already. To fix it, " + fixHeld;
        }
        String fixUnusable = "make the agent's user the owner of the unusable slots' <n>.id and <n>.lock files in " + dir
                + " and make them plain files (or delete them while no agent runs on the directory)";
        return "none of the " + SLOTS + " instance slots of " + dir + " is free: " + held + " held by running agent"
                + " processes, " + unusable + " that cannot be used (the last: " + lastProblem + "). To fix it, "
                + fixUnusable + (held == 0 ? "" : "; for the held ones, " + fixHeld);
    }

    private static AgentInstance ephemeral(String why) {
        UUID id = UUID.randomUUID();
        log.warn("{}. Meanwhile this agent runs as instance {} for this run only: should it die holding a lease, the"
                + " lease is not handed back when it starts again but runs out (aneforge.agents.lease-duration on the"
                + " registry) and spends an attempt", why, id);
        return new AgentInstance(id, -1, null, null, null, null, null);
    }

    private static Optional<AgentInstance> tryTake(Path dir, int n) throws IOException {
        Path lockFile = dir.resolve(n + ".lock").toAbsolutePath().normalize();
        synchronized (HELD) {
            // held by another claim in this JVM: opening (and closing) a channel here would drop that claim's lock
            if (!HELD.add(lockFile)) return Optional.empty();
        }
        boolean kept = false;
        try {
            FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException heldInThisJvm) {
                lock = null; // locked in this JVM but not through this class: taken as held by another agent
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            if (lock == null) {
                channel.close();
                return Optional.empty();
            }
            try {
                Path leaseCallFile = dir.resolve(n + ".request");
                AgentInstance i = new AgentInstance(idOf(dir.resolve(n + ".id")), n, lockFile, channel, lock,
                        leaseCallFile, leftBehind(leaseCallFile));
                kept = true;
                return Optional.of(i);
            } catch (IOException | RuntimeException e) {
                lock.release();
                channel.close();
                throw e;
            }
        } finally {
            if (!kept) {
                synchronized (HELD) {
                    HELD.remove(lockFile);
                }
            }
        }
    }

    /**
     * The note of a lease call the slot's previous process left unanswered, read with the slot's lock held; a note
     * that does not read (damaged, or not written by this code) is logged and ignored: the next call replaces it.
     * Read with a bound: the file is the agent's own, but whatever else lands there must not cost more than a log line.
     */
    private static UnansweredLeaseCall leftBehind(Path file) {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        String text = "";
        try {
            text = BoundedFiles.readString(file, MAX_NOTE_BYTES).strip();
            String[] f = text.split(" ");
            if (f.length != 3) {
                throw new IllegalArgumentException("expected '<agent id> <request id> <sent at>'");
            }
            return new UnansweredLeaseCall(f[0], f[1], Instant.parse(f[2]));
        } catch (IOException | RuntimeException e) {
            log.warn("ignored the lease call note {}: {}{}. It is not sent: should the previous agent process on this"
                    + " slot have ended during a lease call, a lease granted to that call runs out (one attempt). Nothing"
                    + " to do: the next lease call replaces the note. If it comes back, check what else writes to {}",
                    file, e instanceof BoundedFiles.Refused ? e.getMessage() : e.toString(),
                    text.isEmpty() ? "" : " (it holds '" + printable(text) + "')", file.getParent());
            return null;
        }
    }

    /** A note's text for a log line: control characters (a damaged file's) shown as '?', so it stays one line. */
    private static String printable(String text) {
        return text.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }

    /**
     * The lease call the slot's previous process had out when it ended, never answered: the registry may have granted
     * it a lease (or will, if it still waits in the long poll), which this process releases by request. Empty when
     * the previous process's last call was answered, none was noted, or this is an id of this run only.
     */
    public Optional<UnansweredLeaseCall> unansweredLeaseCall() {
        return Optional.ofNullable(leftBehind);
    }

    /** Notes the call in the slot before it is sent ({@link LeaseCallLog}); replaces the previous call's note. */
    @Override
    public void sending(String agentId, String request) {
        if (leaseCallFile == null) {
            return;
        }
        Path next = leaseCallFile.resolveSibling(leaseCallFile.getFileName() + ".next");
        try {
            Files.writeString(next, agentId + " " + request + " " + Instant.now() + "\n", StandardCharsets.UTF_8);
            Files.move(next, leaseCallFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            noted = request;
            if (noteFailing) {
                noteFailing = false;
                log.info("the lease call out is noted in {} again", leaseCallFile);
            }
        } catch (IOException | RuntimeException e) {
            noted = null; // the file holds an older note, if any, not this call's
            if (!noteFailing) {
                noteFailing = true;
                log.warn("cannot note the lease call out in {} ({}): should this agent die during a lease call, a lease"
                        + " granted to it is not handed back by the next agent on this slot but runs out. Make the cache"
                        + " directory writable (or free space on its disk)", leaseCallFile, e.toString());
            }
        }
    }

    /** The registry answered the call: its note goes, so the next process does not release what this one runs. */
    @Override
    public void answered(String request) {
        drop(request);
    }

    /** The loop keeps the call's release in the cache directory: that release covers it, and the note goes. */
    @Override
    public void releaseKept(String request) {
        drop(request);
    }

    /**
     * Deletes the note if it is {@code request}'s. Another call's note stays: the slot's lock makes this process the
     * only writer of the file, so {@link #noted} is what the file holds, and a call that is not the one noted (its note
     * could not be written, or the note is the previous process's) must not take another call's note away.
     */
    private void drop(String request) {
        if (leaseCallFile == null || request == null || !request.equals(noted)) {
            return;
        }
        try {
            Files.deleteIfExists(leaseCallFile);
            noted = null;
        } catch (IOException e) {
            // The next call replaces it. Should this process end first, the next one releases that request: a job
            // this process got by the call and was running then goes back uncounted (not a hand-back for trouble).
            log.warn("cannot delete the lease call note {} ({}); the next lease call replaces it", leaseCallFile,
                    e.toString());
        }
    }

    /**
     * The slot's id, created when there is none (or none readable: bytes that are not UTF-8 or not an id). Called
     * with the slot's lock held.
     */
    private static UUID idOf(Path file) throws IOException {
        if (Files.exists(file)) {
            byte[] bytes = Files.readAllBytes(file);
            // decoded leniently: damaged bytes make it "not an id" (replaced below), not an error that loses the slot
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(bytes)).toString().strip();
            try {
                return UUID.fromString(text);
            } catch (IllegalArgumentException e) {
                log.warn("instance id file {} does not hold an id ({} bytes); writing a new one", file, bytes.length);
            }
        }
        UUID id = UUID.randomUUID();
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, id + "\n", StandardCharsets.UTF_8);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return id;
    }

    public UUID id() {
        return id;
    }

    /** Whether the id outlives this process (a slot is held): a restart on the directory registers with it again. */
    public boolean lasting() {
        return slot >= 0;
    }

    /** Lets go of the slot (also done by the operating system when the process ends). */
    @Override
    public void close() {
        // once only: a second close after another claim took the slot must not drop that claim's HELD entry
        if (channel == null || !closed.compareAndSet(false, true)) {
            return;
        }
        try {
            lock.release();
        } catch (IOException e) {
            log.debug("releasing the instance lock: {}", e.toString());
        }
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing the instance lock file: {}", e.toString());
        }
        synchronized (HELD) {
            HELD.remove(lockFile);
        }
    }

    @Override
    public String toString() {
        return id + (lasting() ? " (slot " + slot + ")" : " (this run only)");
    }
}

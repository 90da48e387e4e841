package io.aneforge.agent.instance;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.UUID;
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
 * <p>Locks on a network file system (NFS, SMB) may not be honoured across hosts; the cache directory is one host's
 * already ({@code aneforge.agent.cache.dir}).
 */
public final class AgentInstance implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AgentInstance.class);

    /** Far more agent processes than one host runs on one cache directory. */
    static final int SLOTS = 16;
    static final String DIR = "instance";

    private final UUID id;
    /** The slot held, or -1 for an id of this run only. */
    private final int slot;
    private final FileChannel channel;
    private final FileLock lock;

    private AgentInstance(UUID id, int slot, FileChannel channel, FileLock lock) {
        this.id = id;
        this.slot = slot;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the first free slot of {@code cacheDir}, or, when none is free or the directory cannot be used, a fresh id
     * for this run. Never fails: an agent without a lasting instance id only loses the hand-back at its restart.
     */
    public static AgentInstance claim(Path cacheDir) {
        Path dir = cacheDir.resolve(DIR);
        try {
            Files.createDirectories(dir);
            for (int n = 0; n < SLOTS; n++) {
                Optional<AgentInstance> taken = tryTake(dir, n);
                if (taken.isPresent()) {
                    AgentInstance i = taken.get();
                    log.info("agent instance {} (slot {} of {}): a restart on this cache directory registers as the same"
                            + " instance, and the registry hands back the leases it held", i.id, n, dir);
                    return i;
                }
            }
            return ephemeral("all " + SLOTS + " instance slots of " + dir + " are held by running agents");
        } catch (IOException | RuntimeException e) {
            return ephemeral("cannot keep an instance id in " + dir + " (" + e + ")");
        }
    }

    private static AgentInstance ephemeral(String why) {
        UUID id = UUID.randomUUID();
        log.warn("{}: this agent runs as instance {} for this run only; should it die holding a lease, the lease is not"
                + " handed back when it starts again but runs out (aneforge.agents.lease-duration on the registry)", why, id);
        return new AgentInstance(id, -1, null, null);
    }

    private static Optional<AgentInstance> tryTake(Path dir, int n) throws IOException {
        FileChannel channel = FileChannel.open(dir.resolve(n + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException heldInThisJvm) {
            lock = null; // another agent in this JVM (tests, an embedder) holds the slot
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            return Optional.empty();
        }
        try {
            return Optional.of(new AgentInstance(idOf(dir.resolve(n + ".id")), n, channel, lock));
        } catch (IOException | RuntimeException e) {
            lock.release();
            channel.close();
            throw e;
        }
    }

    /** The slot's id, created when there is none (or none readable). Called with the slot's lock held. */
    private static UUID idOf(Path file) throws IOException {
        if (Files.exists(file)) {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            try {
                return UUID.fromString(text);
            } catch (IllegalArgumentException e) {
                log.warn("instance id file {} does not hold an id ({} characters); writing a new one", file, text.length());
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
        if (channel == null) {
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
    }

    @Override
    public String toString() {
        return id + (lasting() ? " (slot " + slot + ")" : " (this run only)");
    }
}

package io.aneforge.cli.up;

import io.aneforge.cli.UsageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The lock on {@code up}'s home directory ({@code <home>/up.lock}), held for the whole run: two runs in one
 * directory would share its database, blob store, worker id, work directory and logs. The lock is the
 * operating system's ({@link FileChannel#tryLock()}), so it ends with the process however that ends (kill -9
 * included) and a file left behind by a dead run does not count. The file holds the pid of the run that holds
 * it, for the message the next run prints.
 */
public final class HomeLock implements AutoCloseable {

    static final String FILE = "up.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private HomeLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Locks {@code home} (created if missing) or fails with exit code 2 naming the other run and the fix. */
    public static HomeLock acquire(Path home) throws IOException {
        Files.createDirectories(home);
        Path file = home.resolve(FILE);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException sameJvm) {
            lock = null;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            String pid = otherPid(file);
            throw new UsageException("another aneforge up" + (pid == null ? "" : " (pid " + pid + ")")
                    + " is running with the state directory " + home + ": stop it (Ctrl-C in its terminal"
                    + (pid == null ? "" : ", or kill " + pid) + "), or run this one with another --home <dir> "
                    + "(and other --port, --worker-port and --database, so the two do not share them)");
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        ch.force(false);
        return new HomeLock(ch, lock);
    }

    private static String otherPid(Path file) {
        try {
            String s = Files.readString(file, StandardCharsets.US_ASCII).trim();
            return s.matches("\\d+") ? s : null;
        } catch (IOException e) {
            return null; // a platform whose locks also bar reading: the pid is not known
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}

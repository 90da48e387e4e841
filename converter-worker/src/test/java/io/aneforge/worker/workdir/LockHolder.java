package io.aneforge.worker.workdir;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Another worker process on the same host, as far as a work directory is concerned: locks
 * {@code <dir>/.lock} like a running conversion, says "locked", and holds it until its standard input closes
 * or it is killed. With a second argument {@code try} it only tries the lock once and says whether it got it.
 */
public final class LockHolder {

    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 1 && args[1].equals("try")) {
            // Only tries: says "locked" when it got the lock (nobody held it), "busy" otherwise, and exits.
            try (FileChannel c = FileChannel.open(Path.of(args[0]).resolve(WorkDirs.LOCK), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock lock = c.tryLock()) {
                System.out.println(lock != null ? "locked" : "busy");
            }
            return;
        }
        try (FileChannel c = FileChannel.open(Path.of(args[0]).resolve(WorkDirs.LOCK), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = c.lock()) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold until stdin closes
            }
        }
    }
}

package io.aneforge.worker.workdir;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Another worker process on the same host, as far as a work directory is concerned: locks
 * {@code <dir>/.lock} like a running conversion, says "locked", and holds it until its standard input closes
 * or it is killed.
 */
public final class LockHolder {

    private LockHolder() {}

    public static void main(String[] args) throws Exception {
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

package io.aneforge.agent.coreml;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Another agent process, for {@link CompiledModelCacheTest}: run as its own JVM on the test classpath, it takes the
 * exclusive lock on the file {@code args[0]} as {@link CompiledModelCache} does, prints {@code locked}, and holds it
 * until its standard input closes (the test closing it, or the test's JVM ending).
 */
final class FileLockHolder {

    private FileLockHolder() {
    }

    public static void main(String[] args) throws Exception {
        try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock held = channel.lock()) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the end of input
            }
        }
    }
}

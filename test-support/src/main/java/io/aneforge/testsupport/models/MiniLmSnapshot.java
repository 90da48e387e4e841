package io.aneforge.testsupport.models;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;

/**
 * Forwards to ane-core's {@code io.aneforge.source.MiniLmSnapshot}, the one implementation.
 *
 * <p>Only the benchmarks module (RuntimeBenchmark) still calls this class; it is owned by another line of
 * work and was left untouched. test-support cannot depend on ane-core (ane-core's tests depend on
 * test-support), hence the reflective call; the benchmarks module has ane-core on its class path.
 * Switch RuntimeBenchmark to {@code io.aneforge.source.MiniLmSnapshot.write} and delete this class.
 */
@Deprecated(forRemoval = true)
public final class MiniLmSnapshot {
    private static final String IMPLEMENTATION = "io.aneforge.source.MiniLmSnapshot";

    private MiniLmSnapshot() {
    }

    /** See {@code io.aneforge.source.MiniLmSnapshot#write(Path)}. */
    public static Path write(Path dir) throws IOException {
        try {
            return (Path) Class.forName(IMPLEMENTATION).getMethod("write", Path.class).invoke(null, dir);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IOException io) throw io;
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(IMPLEMENTATION + " is not on the class path: depend on"
                    + " io.aneforge:ane-core and call it directly", e);
        }
    }
}

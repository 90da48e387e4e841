package io.aneforge.agent.cache;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.util.Locale;

/**
 * Recognises a local disk problem in an exception (or its causes) thrown by code that both reads input and writes
 * files (unzipping, compiling a model into a cache): a full disk, a quota, a read-only file system, a directory this
 * process may not write. Those are this host's fault ({@link Fault#HOST}), not the input's.
 */
public final class DiskTrouble {

    private DiskTrouble() {
    }

    public static boolean in(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AccessDeniedException) {
                return true;
            }
            if (t instanceof IOException && t.getMessage() != null) {
                String m = t.getMessage().toLowerCase(Locale.ROOT);
                if (m.contains("no space left on device") || m.contains("disk quota exceeded")
                        || m.contains("read-only file system") || m.contains("not enough space")) {
                    return true;
                }
            }
        }
        return false;
    }
}

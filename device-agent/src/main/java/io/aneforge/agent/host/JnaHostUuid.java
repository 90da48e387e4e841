package io.aneforge.agent.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.UUID;

/**
 * {@code gethostuuid(2)} through JNA (macOS only): {@code int gethostuuid(uuid_t id, const struct timespec *wait)},
 * which fills 16 bytes that "uniquely identify the current machine" and returns 0, or -1 with {@code errno}
 * ({@code EWOULDBLOCK} when {@code wait} ran out first). Written against Apple's man page, not yet run on a Mac.
 */
public final class JnaHostUuid implements HostUuid {

    /** How long the call may wait: only early in boot, before IOKit has published the UUID, does it take a while. */
    private static final long WAIT_SECONDS = 5;

    /** {@code struct timespec} on 64-bit macOS: {@code time_t tv_sec} and {@code long tv_nsec}, both 64-bit. */
    @Structure.FieldOrder({"tvSec", "tvNsec"})
    public static class Timespec extends Structure {
        public long tvSec;
        public long tvNsec;
    }

    interface LibC extends Library {
        int gethostuuid(byte[] id, Timespec wait);
    }

    private final LibC libc = Native.load("c", LibC.class);

    @Override
    public String read() {
        byte[] id = new byte[16];
        Timespec wait = new Timespec();
        wait.tvSec = WAIT_SECONDS; // zero would wait for ever
        if (libc.gethostuuid(id, wait) != 0) {
            throw new HostProbeException("gethostuuid(2) failed with errno " + Native.getLastError());
        }
        ByteBuffer bytes = ByteBuffer.wrap(id);
        return new UUID(bytes.getLong(), bytes.getLong()).toString().toUpperCase(Locale.ROOT);
    }
}

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
 *
 * <p>libc is loaded at the first {@link #read}, not when this is made, and JNA resolves the symbol only at the call:
 * either can fail with an {@link Error} ({@link UnsatisfiedLinkError}), which {@link MacHostProbe#machineIdentity()}
 * turns into a reading without an identity.
 */
public final class JnaHostUuid implements HostUuid {

    /** How long the call may wait: only early in boot, before IOKit has published the UUID, does it take a while. */
    private static final long WAIT_SECONDS = 5;
    private static final int UUID_BYTES = 16;

    /** {@code struct timespec} on 64-bit macOS: {@code time_t tv_sec} and {@code long tv_nsec}, both 64-bit. */
    @Structure.FieldOrder({"tvSec", "tvNsec"})
    public static class Timespec extends Structure {
        public long tvSec;
        public long tvNsec;
    }

    interface LibC extends Library {
        int gethostuuid(byte[] id, Timespec wait);
    }

    /** Loaded on first use (the holder idiom), so a failure to load surfaces in {@link #read}. */
    private static final class Loaded {
        static final LibC LIBC = Native.load("c", LibC.class);
    }

    @Override
    public String read() {
        byte[] id = new byte[UUID_BYTES];
        Timespec wait = new Timespec();
        wait.tvSec = WAIT_SECONDS; // zero would wait for ever
        if (Loaded.LIBC.gethostuuid(id, wait) != 0) {
            throw new HostProbeException("gethostuuid(2) failed with errno " + Native.getLastError());
        }
        return unparse(id);
    }

    /**
     * A {@code uuid_t} (16 bytes, most significant first) as {@code uuid_unparse_upper(3)} writes it:
     * {@code 6BA7B810-9DAD-11D1-80B4-00C04FD430C8}.
     */
    static String unparse(byte[] id) {
        if (id.length != UUID_BYTES) {
            throw new IllegalArgumentException("a uuid_t is " + UUID_BYTES + " bytes, got " + id.length);
        }
        ByteBuffer bytes = ByteBuffer.wrap(id); // big-endian, as uuid_t is laid out
        return new UUID(bytes.getLong(), bytes.getLong()).toString().toUpperCase(Locale.ROOT);
    }
}

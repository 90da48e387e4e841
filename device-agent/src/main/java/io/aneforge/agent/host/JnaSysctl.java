package io.aneforge.agent.host;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;

/**
 * {@code sysctlbyname(3)} through JNA (macOS only):
 * {@code int sysctlbyname(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)}.
 * Written against Apple's documented API, not yet run on a Mac.
 */
public final class JnaSysctl implements Sysctl {

    interface LibC extends Library {
        // size_t is 64-bit on every macOS the agent supports (arm64 and x86_64), so long is exact.
        int sysctlbyname(String name, Pointer oldp, LongByReference oldlenp, Pointer newp, long newlen);
    }

    private final LibC libc = Native.load("c", LibC.class);

    @Override
    public String string(String name) {
        LongByReference len = new LongByReference();
        check(name, libc.sysctlbyname(name, null, len, null, 0));
        if (len.getValue() == 0) {
            return "";
        }
        Memory buf = new Memory(len.getValue());
        check(name, libc.sysctlbyname(name, buf, len, null, 0));
        return buf.getString(0, "UTF-8");
    }

    @Override
    public long int64(String name) {
        Memory buf = new Memory(8);
        LongByReference len = new LongByReference(8);
        check(name, libc.sysctlbyname(name, buf, len, null, 0));
        return switch ((int) len.getValue()) {
            case 8 -> buf.getLong(0);
            case 4 -> Integer.toUnsignedLong(buf.getInt(0));
            default -> throw new HostProbeException("sysctl " + name + " returned " + len.getValue()
                    + " bytes; expected a 4- or 8-byte integer");
        };
    }

    private static void check(String name, int rc) {
        if (rc != 0) {
            throw new HostProbeException("sysctlbyname(\"" + name + "\") failed with errno " + Native.getLastError());
        }
    }
}

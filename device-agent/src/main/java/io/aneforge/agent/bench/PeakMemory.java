package io.aneforge.agent.bench;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Peak resident set size of this process, in <b>bytes</b>.
 *
 * <ul>
 *   <li>Linux: {@code VmHWM} from {@code /proc/self/status} (reported in kB, converted).
 *       {@link #resetPeak()} writes {@code 5} to {@code /proc/self/clear_refs}, which resets
 *       the high-water mark to the current RSS, so a benchmark can measure its own peak.
 *   <li>macOS: {@code getrusage(RUSAGE_SELF).ru_maxrss}, which macOS reports in <b>bytes</b>
 *       (Linux reports the same field in kilobytes; that is why Linux uses VmHWM). It cannot be
 *       reset: the peak is over the process lifetime (JVM start-up included). Written against
 *       Apple's documented API, not yet run on a Mac.
 * </ul>
 *
 * The peak includes the JVM's heap and code, so it is an upper bound on the model's memory.
 */
public interface PeakMemory {

    /** Peak resident bytes, or -1 when the OS cannot tell. */
    long peakBytes();

    /** Resets the peak to the current resident size if the OS allows; true when it did. */
    boolean resetPeak();

    static PeakMemory forCurrentOs() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            return new LinuxPeakMemory(Path.of("/proc/self"));
        }
        if (os.startsWith("mac")) {
            return new MacPeakMemory();
        }
        return new PeakMemory() {
            @Override
            public long peakBytes() {
                return -1;
            }

            @Override
            public boolean resetPeak() {
                return false;
            }
        };
    }

    /** VmHWM from procfs. */
    final class LinuxPeakMemory implements PeakMemory {
        private final Path procSelf;

        LinuxPeakMemory(Path procSelf) {
            this.procSelf = procSelf;
        }

        @Override
        public long peakBytes() {
            try {
                return parseVmHwmBytes(Files.readString(procSelf.resolve("status")));
            } catch (IOException e) {
                return -1;
            }
        }

        @Override
        public boolean resetPeak() {
            try {
                Files.writeString(procSelf.resolve("clear_refs"), "5");
                return true;
            } catch (IOException | SecurityException e) {
                return false; // e.g. kernels without CONFIG_PROC_PAGE_MONITOR
            }
        }

        /** "VmHWM:\t  123456 kB" → 123456 * 1024; -1 when the line is missing. */
        static long parseVmHwmBytes(String status) {
            for (String line : status.split("\n")) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring("VmHWM:".length()).trim().split("\\s+");
                    long value = Long.parseLong(parts[0]);
                    if (parts.length < 2 || !parts[1].equals("kB")) {
                        throw new IllegalStateException("VmHWM line '" + line + "' is not in kB");
                    }
                    return value * 1024;
                }
            }
            return -1;
        }
    }

    /** getrusage through JNA; ru_maxrss follows two struct timevals (16 bytes each on 64-bit macOS). */
    final class MacPeakMemory implements PeakMemory {
        interface LibC extends Library {
            int getrusage(int who, Memory usage);
        }

        private static final int RUSAGE_SELF = 0;
        private static final int RU_MAXRSS_OFFSET = 32;
        private static final int STRUCT_RUSAGE_SIZE = 144; // 2 timevals + 14 longs

        private final LibC libc = Native.load("c", LibC.class);

        @Override
        public long peakBytes() {
            Memory usage = new Memory(STRUCT_RUSAGE_SIZE);
            if (libc.getrusage(RUSAGE_SELF, usage) != 0) {
                return -1;
            }
            return usage.getLong(RU_MAXRSS_OFFSET); // bytes on macOS
        }

        @Override
        public boolean resetPeak() {
            return false;
        }
    }
}

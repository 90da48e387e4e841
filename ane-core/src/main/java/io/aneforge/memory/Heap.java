package io.aneforge.memory;

import java.util.Locale;

/** The JVM's maximum heap and the words for "needs more of it". */
public final class Heap {
    private static final long GIB = 1L << 30;

    private Heap() {
    }

    /** The most heap this JVM will use ({@code -Xmx}, or the JVM's default share of the machine's memory). */
    public static long maxBytes() {
        return Runtime.getRuntime().maxMemory();
    }

    /** {@code 512 MiB}, {@code 3.4 GiB}: bytes in the unit a heap size is thought of in. */
    public static String describe(long bytes) {
        if (bytes >= GIB) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) GIB);
        }
        if (bytes >= 1L << 20) {
            return (bytes >> 20) + " MiB";
        }
        return bytes + " bytes";
    }

    /**
     * The {@code -Xmx} option for a heap of at least {@code neededBytes} plus a quarter for everything else the
     * JVM holds, in whole gibibytes: {@code -Xmx5g}.
     */
    public static String xmxFor(long neededBytes) {
        long withRoom = neededBytes + neededBytes / 4;
        long gib = Math.max(1, (withRoom + GIB - 1) / GIB);
        return "-Xmx" + gib + "g";
    }

    /**
     * The fix, one clause: {@code give the JVM a larger heap: -Xmx5g (for ./aneforge: ANEFORGE_JAVA_OPTS=-Xmx5g)}.
     */
    public static String fix(long neededBytes) {
        String xmx = xmxFor(neededBytes);
        return "give the JVM a larger heap: " + xmx + " (for ./aneforge: ANEFORGE_JAVA_OPTS=" + xmx + ")";
    }
}

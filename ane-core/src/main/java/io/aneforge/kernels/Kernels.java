package io.aneforge.kernels;

/**
 * The switch between the scalar reference kernels (which define each operation's meaning)
 * and the fast ones (cache-blocked, multithreaded through {@link Parallel}). Default: fast;
 * {@code -Daneforge.kernels.fast=false} or {@link #setFast(boolean)} turns it off, e.g. to
 * rule a fast path out when chasing a numerical difference.
 */
public final class Kernels {

    private static volatile boolean fast = Boolean.parseBoolean(System.getProperty("aneforge.kernels.fast", "true"));

    private Kernels() {
    }

    public static boolean isFast() {
        return fast;
    }

    public static void setFast(boolean enabled) {
        fast = enabled;
    }
}

package io.aneforge.kernels;

/**
 * The switch between the scalar reference kernels (which define each operation's meaning)
 * and the fast ones (cache-blocked, multithreaded through {@link Parallel}). Default: fast;
 * {@code -Daneforge.kernels=scalar} (or the older {@code -Daneforge.kernels.fast=false}) or
 * {@link #setFast(boolean)} turns it off, e.g. to rule a fast path out when chasing a
 * numerical difference. The reference runtime reads this switch when it loads a model.
 */
public final class Kernels {

    /** System property selecting the kernels: {@code fast} (default) or {@code scalar}. */
    public static final String PROPERTY = "aneforge.kernels";

    private static volatile boolean fast = fromProperties();

    private Kernels() {
    }

    static boolean fromProperties() {
        String mode = System.getProperty(PROPERTY);
        if (mode == null) {
            return Boolean.parseBoolean(System.getProperty(PROPERTY + ".fast", "true"));
        }
        return parse(mode);
    }

    /** Parses a kernel mode: {@code fast} or {@code scalar} (case-insensitive). */
    public static boolean parse(String mode) {
        switch (mode.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "fast":
                return true;
            case "scalar":
                return false;
            default:
                throw new IllegalArgumentException("system property " + PROPERTY + "='" + mode
                        + "' is not a kernel mode: use fast or scalar");
        }
    }

    public static boolean isFast() {
        return fast;
    }

    public static void setFast(boolean enabled) {
        fast = enabled;
    }
}

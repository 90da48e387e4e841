package io.aneforge.vector;

/**
 * Whether the kernels may use the JDK 17 incubator Vector API ({@code jdk.incubator.vector}).
 *
 * <p>The incubator module is resolved only when the JVM is started with
 * {@code --add-modules jdk.incubator.vector}; without it, loading any class that names a
 * vector type fails. So the vector kernels live in their own classes, and callers reach them
 * only after {@link #enabled()} said yes; this class itself names no incubator type (the
 * probe that does, {@link VectorProbe}, is loaded only once the module is known present).
 * {@code -Daneforge.vector=false} forces the plain-Java kernels even when the module is there.
 */
public final class VectorPath {

    /** System property that turns the vector path off ({@code false}); anything else leaves it on. */
    public static final String PROPERTY = "aneforge.vector";
    /** Module name, as given to {@code --add-modules}. */
    public static final String MODULE = "jdk.incubator.vector";

    private static final boolean ENABLED = decide();

    private VectorPath() {
    }

    /** True when the vector kernels are in use in this JVM. */
    public static boolean enabled() {
        return ENABLED;
    }

    /** One line for logs and benchmark output: which kernels run and why. */
    public static String describe() {
        if (ENABLED) {
            return "vector kernels (" + VectorProbe.describe() + ")";
        }
        if (!modulePresent()) {
            return "plain-Java kernels (start the JVM with --add-modules " + MODULE + " for the vector kernels)";
        }
        if (forcedOff()) {
            return "plain-Java kernels (-D" + PROPERTY + "=false)";
        }
        return "plain-Java kernels (the preferred vector shape is too narrow: " + VectorProbe.describe() + ")";
    }

    private static boolean decide() {
        if (forcedOff() || !modulePresent()) {
            return false;
        }
        return VectorProbe.wideEnough();
    }

    private static boolean forcedOff() {
        return "false".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim());
    }

    private static boolean modulePresent() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }
}

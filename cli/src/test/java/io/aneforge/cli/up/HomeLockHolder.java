package io.aneforge.cli.up;

/** Holds {@link HomeLock} on {@code args[0]} in a JVM of its own (another {@code up}) until killed. */
public final class HomeLockHolder {

    private HomeLockHolder() {
    }

    public static void main(String[] args) throws Exception {
        try (HomeLock lock = HomeLock.acquire(java.nio.file.Path.of(args[0]))) {
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}

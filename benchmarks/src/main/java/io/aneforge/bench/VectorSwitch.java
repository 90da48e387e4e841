package io.aneforge.bench;

import io.aneforge.vector.VectorPath;

/**
 * Turns the Vector API kernels on or off for one JMH fork. Every benchmark fork starts with
 * {@code --add-modules jdk.incubator.vector} (see the {@code @Fork} annotations); a
 * {@code vector} parameter of {@code false} sets {@code -Daneforge.vector=false} before the
 * first kernel class is loaded (JMH runs each parameter combination in its own fork), so
 * both paths are measured side by side in one run.
 */
final class VectorSwitch {

    /** The fork option that makes the incubator module available. */
    static final String ADD_MODULES = "--add-modules=jdk.incubator.vector";

    private VectorSwitch() {
    }

    /** Call first in a trial setup; fails when the fork cannot honour the request. */
    static void apply(boolean vector) {
        System.setProperty(VectorPath.PROPERTY, Boolean.toString(vector));
        if (VectorPath.enabled() != vector) {
            // Either the fork lacks the module (a -jvmArgsAppend on the command line replaces the
            // annotation's: repeat --add-modules there), or an earlier trial in this JVM (-f 0) chose already.
            throw new IllegalStateException("asked for vector=" + vector + " but this fork runs " + VectorPath.describe()
                    + "; with -jvmArgsAppend add " + ADD_MODULES + ", and use -f 1 or more (not -f 0)");
        }
        System.out.println("# kernels: " + VectorPath.describe());
    }
}

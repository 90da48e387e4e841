package io.aneforge.mlpackage;

/**
 * A package cannot be written or read: the message names the file, the op/tensor/field
 * and the rule that failed. {@link #kind()} says whether the package's bytes decided it, so a caller
 * that keeps verdicts (the registry's {@code blob_cost}) keeps only those.
 */
public class MlPackageException extends RuntimeException {

    /** Whose fact a failure is. */
    public enum Kind {
        /** The package's bytes: the same package fails the same way on any machine. */
        CONTENT,
        /** This machine's disk or file system failed (I/O error, permissions, disk full, a file changed while read). */
        LOCAL_IO,
        /** The package is not at fault: it does not fit in this JVM's heap ({@link OutOfHeap}). */
        HEAP
    }

    private final Kind kind;

    public MlPackageException(String message) {
        this(Kind.CONTENT, message, null);
    }

    public MlPackageException(String message, Throwable cause) {
        this(Kind.CONTENT, message, cause);
    }

    public MlPackageException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    /** A failure of this machine's disk while reading or writing {@code what}. */
    static MlPackageException localIo(String message, Throwable cause) {
        return new MlPackageException(Kind.LOCAL_IO, message, cause);
    }

    public Kind kind() {
        return kind;
    }

    /**
     * The package's weights (or model) need more heap than this JVM has. {@link #problem()} is the clause
     * without the fix and {@link #neededBytes()} the heap it needs, so a server can word the fix its own way
     * (the message's fix names {@code -Xmx} and {@code ./aneforge}'s {@code ANEFORGE_JAVA_OPTS}).
     */
    public static final class OutOfHeap extends MlPackageException {
        private final String problem;
        private final long neededBytes;

        OutOfHeap(String problem, long neededBytes, Throwable cause) {
            super(Kind.HEAP, problem + ": " + io.aneforge.memory.Heap.fix(neededBytes), cause);
            this.problem = problem;
            this.neededBytes = neededBytes;
        }

        public String problem() {
            return problem;
        }

        public long neededBytes() {
            return neededBytes;
        }
    }
}

package io.aneforge.agent.bench;

/** A benchmark could not run; the message names the runtime, package and step. */
public class BenchmarkException extends RuntimeException {

    public BenchmarkException(String message) {
        super(message);
    }

    public BenchmarkException(String message, Throwable cause) {
        super(message, cause);
    }
}

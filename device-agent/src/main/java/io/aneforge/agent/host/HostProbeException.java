package io.aneforge.agent.host;

/** A host fact could not be read; the message names the source (sysctl name, file, call). */
public class HostProbeException extends RuntimeException {

    public HostProbeException(String message) {
        super(message);
    }

    public HostProbeException(String message, Throwable cause) {
        super(message, cause);
    }
}

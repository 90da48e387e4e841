package io.aneforge.worker.registry;

/**
 * The registry (or something in front of it: a proxy's maintenance page) answered a lease call with a success
 * this worker cannot read. A lease may have been granted all the same; {@link #request()} is the id the worker
 * sent with the call, which the registry kept with that lease, so the worker can release it
 * ({@link RegistryClient#releaseLeaseRequest}) without knowing its token instead of letting it run out.
 */
public final class UnreadableLeaseException extends RuntimeException {

    private final String request;

    public UnreadableLeaseException(String message, String request, Throwable cause) {
        super(message, cause);
        this.request = request;
    }

    public String request() {
        return request;
    }
}

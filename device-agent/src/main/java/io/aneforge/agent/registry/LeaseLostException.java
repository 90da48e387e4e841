package io.aneforge.agent.registry;

/** The registry says this agent no longer holds the lease (403 lease-not-held): drop the work. */
public class LeaseLostException extends RegistryException {

    public LeaseLostException(String message) {
        super(message, 403, false, null);
    }
}

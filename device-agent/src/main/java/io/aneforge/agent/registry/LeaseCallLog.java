package io.aneforge.agent.registry;

/**
 * Where the agent notes the lease call it has out, so that the next process can release it should this one end
 * during the call ({@code AgentInstance} keeps it in the process's instance slot). A lease call can wait up to
 * {@code aneforge.agents.max-lease-wait} (30 s) in the registry's long poll, and the registry does not notice that
 * the caller is gone before it writes its answer: a lease granted to the poll of an ended process would otherwise
 * run out (5 minutes) and spend an attempt. Released by request, such a lease is handed back; if the poll is still
 * waiting, the registry grants it nothing when it wakes (V15).
 *
 * <p>Called by {@link HttpRegistryClient#lease} on the loop thread only, one call at a time. Neither method throws:
 * a note that cannot be written costs only that hand-back.
 */
public interface LeaseCallLog {

    /** Notes nothing: no release after a restart (an agent without an instance slot, tests). */
    LeaseCallLog NONE = new LeaseCallLog() {
        @Override
        public void sending(String agentId, String request) {
        }

        @Override
        public void answered(String request) {
        }
    };

    /** Before lease call {@code request} of agent {@code agentId} is sent: replaces the note of the previous call. */
    void sending(String agentId, String request);

    /**
     * The registry answered lease call {@code request} (a job, none, or a refusal), or it never reached the registry:
     * nothing can be granted for it any more, so the note goes. Not called when the answer was lost on the way: the
     * loop releases that call by request itself, and the note stays until the next call replaces it.
     */
    void answered(String request);
}

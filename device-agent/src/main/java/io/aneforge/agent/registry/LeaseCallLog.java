package io.aneforge.agent.registry;

/**
 * Where the agent notes the lease call it has out, so that the next process can release it should this one end
 * during the call ({@code AgentInstance} keeps it in the process's instance slot). A lease call can wait up to
 * {@code aneforge.agents.max-lease-wait} (30 s) in the registry's long poll, and the registry does not notice that
 * the caller is gone before it writes its answer: a lease granted to the poll of an ended process would otherwise
 * run out (5 minutes) and spend an attempt. Released by request, such a lease is handed back; if the poll is still
 * waiting, the registry grants it nothing when it wakes (V15).
 *
 * <p>Called on the loop thread only, one call at a time: by {@link HttpRegistryClient#lease}, and through
 * {@link LeaseAnswerLostException#releaseKept()} by the loop. No method throws:
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

        @Override
        public void releaseKept(String request) {
        }
    };

    /** Before lease call {@code request} of agent {@code agentId} is sent: replaces the note of the previous call. */
    void sending(String agentId, String request);

    /**
     * The registry answered lease call {@code request} (a job, none, or a refusal), or it never reached the registry:
     * nothing can be granted for it any more, so the note goes. Not called when the answer was lost on the way: the
     * loop releases that call by request itself ({@link #releaseKept}). Only the note of {@code request} goes: a note
     * of another call stays.
     */
    void answered(String request);

    /**
     * The answer to lease call {@code request} was lost (a reset, a timeout, a drain cut the call short) and the loop
     * has kept the call's release in the cache directory, where it is sent until the registry answers it, also by the
     * next process on the directory: that release covers the call, so its note goes. Kept, it would have the next
     * process release the call once more after every clean stop (a drain always cuts the long poll short) and log an
     * end during a lease call that did not happen. When the release could not be kept, this is not called and the
     * note stays, for the next process to release. Only the note of {@code request} goes.
     */
    void releaseKept(String request);
}

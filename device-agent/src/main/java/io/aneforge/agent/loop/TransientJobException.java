package io.aneforge.agent.loop;

/**
 * A job could not run for a reason that is not its own: getting its input failed on the way (a timeout, a reset,
 * a 5xx, a body cut short), or this host cannot hold it (disk full, a cache it cannot write). Thrown by a
 * {@link JobExecutor}; {@link AgentLoop} releases the job (the registry spends no attempt on a release) instead of
 * reporting it failed and pauses before the next lease. The release says {@code trouble}: the registry counts such
 * releases per job and agent and past its {@code aneforge.jobs.max-hand-backs} fails the job after all, so a
 * permanent problem cannot keep a job going round.
 */
public final class TransientJobException extends RuntimeException {

    private final boolean hostTrouble;

    /**
     * @param hostTrouble true when this host is the problem (the agent then takes no job until
     *     {@link JobExecutor#hostProblem()} says it is fixed)
     */
    public TransientJobException(String message, boolean hostTrouble, Throwable cause) {
        super(message, cause);
        this.hostTrouble = hostTrouble;
    }

    public boolean hostTrouble() {
        return hostTrouble;
    }
}

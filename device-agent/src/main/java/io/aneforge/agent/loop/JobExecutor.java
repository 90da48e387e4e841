package io.aneforge.agent.loop;

import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import java.util.Optional;

/** Runs one leased job. The seam between the lease/report loop and the runtimes. */
@FunctionalInterface
public interface JobExecutor {

    /**
     * Runs the job and says how it went. A RuntimeException becomes a failed report naming it;
     * a {@link TransientJobException} (the job could not run for a reason that is not its own) releases it;
     * an interrupt means the lease was lost or the agent is stopping, and nothing is reported.
     */
    JobReport execute(JobLease lease) throws InterruptedException;

    /**
     * What keeps this host from running jobs right now (a disk it cannot write), or empty. After a job failed
     * with host trouble the loop asks this before it leases again, and waits while it is not empty.
     */
    default Optional<String> hostProblem() {
        return Optional.empty();
    }

    /**
     * The call into a runtime (load, predict) of the job in hand that has run longer than its bound
     * ({@code aneforge.agent.max-runtime-call}), named with the job, the runtime and the bound; empty while none has.
     * Asked from other threads (the heartbeat, the liveness file) while {@link #execute} is stuck: while it is not
     * empty the loop gives the job up and the liveness file is not refreshed.
     */
    default Optional<String> overrunningCall() {
        return Optional.empty();
    }
}

package io.aneforge.agent.loop;

import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;

/** Runs one leased job. The seam between the lease/report loop and the runtimes. */
@FunctionalInterface
public interface JobExecutor {

    /**
     * Runs the job and says how it went. A RuntimeException becomes a failed report naming it;
     * an interrupt means the lease was lost or the agent is stopping, and nothing is reported.
     */
    JobReport execute(JobLease lease) throws InterruptedException;
}

package io.aneforge.registry.job;

import io.aneforge.registry.agent.FleetProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

@Configuration(proxyBeanMethods = false)
@EnableScheduling
@EnableConfigurationProperties({JobProperties.class, FleetProperties.class})
class JobConfiguration {

    /**
     * Returns expired leases to the queue. Every registry instance runs it; the UPDATEs are
     * idempotent, so instances need no coordination. Leasing also takes over expired leases
     * directly, so the sweep only bounds how long the job list shows a dead lease.
     */
    @Component
    static class LeaseSweeper {

        private final Jobs jobs;

        LeaseSweeper(Jobs jobs) {
            this.jobs = jobs;
        }

        @Scheduled(fixedDelayString = "${aneforge.jobs.sweep-interval:1s}")
        void sweep() {
            jobs.sweep();
        }
    }

    /** Checks every few seconds whether the lease statement needs fresh statistics ({@link QueueStatistics}). */
    @Component
    static class StatisticsKeeper {

        private final QueueStatistics statistics;

        StatisticsKeeper(QueueStatistics statistics) {
            this.statistics = statistics;
        }

        @Scheduled(fixedDelay = 5_000, initialDelay = 5_000)
        void refresh() {
            statistics.refreshIfStale();
        }
    }
}

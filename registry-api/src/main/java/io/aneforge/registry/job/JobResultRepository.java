package io.aneforge.registry.job;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.data.jpa.repository.JpaRepository;

interface JobResultRepository extends JpaRepository<JobResult, Long> {

    Optional<JobResult> findByLeaseId(UUID leaseId);

    Optional<JobResult> findByJobIdAndAttempt(long jobId, int attempt);

    List<JobResult> findByJobIdInOrderByJobIdAscAttemptAsc(Collection<Long> jobIds);
}

package io.aneforge.registry.job;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Modifying;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;

// Named explicitly: Spring Batch (on the class path when the worker's tests boot the registry in-process)
// registers its own "jobRepository" bean, and the default name would clash with it.
@org.springframework.stereotype.Repository("agentJobRepository")
interface JobRepository extends JpaRepository<Job, Long> {

    @Query(nativeQuery = true, value = "SELECT * FROM job WHERE id = :id FOR UPDATE")
    Optional<Job> lock(@Param("id") long id);

    @Modifying
    @Query(nativeQuery = true, value = """
            UPDATE job SET lease_expires_at = :expires
             WHERE leased_by = :agent AND state = 'leased' AND lease_id IN (:leases)""")
    int extend(@Param("agent") UUID agent, @Param("leases") Collection<UUID> leases, @Param("expires") Instant expires);

    /** Which of these leases the agent still holds. */
    @Query(nativeQuery = true, value = """
            SELECT CAST(lease_id AS text) FROM job
             WHERE leased_by = :agent AND state = 'leased' AND lease_id IN (:leases)""")
    List<String> held(@Param("agent") UUID agent, @Param("leases") Collection<UUID> leases);

    /**
     * Expired leases on their last attempt: the job fails, naming the agent that held it; the attempt and its holder
     * are kept in {@code job_lease_expiry} (V29), as for {@link #requeueExpired}.
     */
    @Modifying
    @Query(nativeQuery = true, value = """
            WITH expired AS (
                SELECT id, attempts, leased_by, lease_id, lease_expires_at FROM job
                 WHERE state = 'leased' AND lease_expires_at < :now AND attempts >= max_attempts
                   FOR UPDATE),
            kept AS (
                INSERT INTO job_lease_expiry (job_id, attempt, agent_id, lease_id, expired_at)
                -- when the attempt ended (its lease), not when the sweep noticed it
                SELECT id, attempts, leased_by, lease_id, lease_expires_at FROM expired
                    ON CONFLICT DO NOTHING)
            UPDATE job j SET state = 'failed', finished_at = :now, lease_id = NULL, lease_expires_at = NULL,
                   failure_reason = 'lease expired on attempt ' || j.attempts || ' of ' || j.max_attempts
                       || ' (agent ' || COALESCE((SELECT host_name FROM agent a WHERE a.id = j.leased_by), '?')
                       || ' sent no result); attempts exhausted'
              FROM expired e
             WHERE j.id = e.id""")
    int failExhausted(@Param("now") Instant now);

    /**
     * Expired leases with attempts left go back to the queue. The next lease overwrites the job's holder, so the
     * attempt and the agent that held it are kept in {@code job_lease_expiry} (V29): leases are not audited, and the
     * job's own rows say who ran each attempt.
     */
    @Modifying
    @Query(nativeQuery = true, value = """
            WITH expired AS (
                SELECT id, attempts, leased_by, lease_id, lease_expires_at FROM job
                 WHERE state = 'leased' AND lease_expires_at < :now AND attempts < max_attempts
                   FOR UPDATE),
            kept AS (
                INSERT INTO job_lease_expiry (job_id, attempt, agent_id, lease_id, expired_at)
                -- when the attempt ended (its lease), not when the sweep noticed it
                SELECT id, attempts, leased_by, lease_id, lease_expires_at FROM expired
                    ON CONFLICT DO NOTHING)
            UPDATE job j SET state = 'pending', lease_id = NULL, lease_expires_at = NULL
              FROM expired e
             WHERE j.id = e.id""")
    int requeueExpired(@Param("now") Instant now);

    /**
     * Jobs of a version become runnable when its golden data is stored, and carry its format version (a draft's golden
     * data set again in another format updates the jobs that have not finished).
     */
    @Modifying
    @Query(nativeQuery = true, value = """
            UPDATE job SET ready = true, golden_format = :format
             WHERE (NOT ready OR (golden_format <> :format AND state IN ('pending', 'leased')))
               AND variant_id IN (SELECT id FROM variant WHERE version_id = :version)""")
    int markReady(@Param("version") long versionId, @Param("format") int format);
}

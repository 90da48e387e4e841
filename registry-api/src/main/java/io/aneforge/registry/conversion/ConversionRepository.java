package io.aneforge.registry.conversion;

import java.util.List;
import java.util.Optional;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;

interface ConversionRepository extends JpaRepository<Conversion, Long> {

    /**
     * The oldest leasable conversion, row-locked; rows another transaction is leasing right now are
     * skipped rather than waited for, so concurrent workers never block on (or double-lease) a row.
     */
    @Query(value = "SELECT * FROM conversion WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < now())"
            + " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", nativeQuery = true)
    Optional<Conversion> lockNextLeasable();

    /** Locks one conversion row (waiting for other writers). */
    @Query(value = "SELECT * FROM conversion WHERE id = :id FOR UPDATE", nativeQuery = true)
    Optional<Conversion> lock(@Param("id") long id);

    Optional<Conversion> findByVersionId(long versionId);

    List<Conversion> findByStateInOrderByIdDesc(List<String> states);
}

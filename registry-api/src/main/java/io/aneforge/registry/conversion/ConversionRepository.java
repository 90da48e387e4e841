package io.aneforge.registry.conversion;

import java.util.List;
import java.util.Optional;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;

interface ConversionRepository extends JpaRepository<Conversion, Long> {

    /**
     * The oldest leasable conversion, row-locked; rows another transaction is leasing right now are
     * skipped rather than waited for, so concurrent workers never block on (or double-lease) a row. A conversion with
     * a non-default head or token types goes only to a worker that declares it acts on them ({@code options}, {@link
     * Conversions#OPTIONS_HEAD_TOKEN_TYPES}): an older worker would ignore them and build other packages; the
     * pre-training head only to one that knows it ({@link Conversions#OPTIONS_PRE_TRAINING}, {@link
     * Conversion#requiredOptions}).
     */
    @Query(value = "SELECT * FROM conversion WHERE (state = 'queued' OR (state = 'running' AND lease_expires_at < now()))"
            + " AND (:options >= " + Conversions.OPTIONS_PRE_TRAINING
            + " OR (:options >= " + Conversions.OPTIONS_HEAD_TOKEN_TYPES + " AND head <> '" + Conversions.PRE_TRAINING_HEAD
            + "') OR (head = 'convert' AND NOT token_types))"
            + " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", nativeQuery = true)
    Optional<Conversion> lockNextLeasable(@org.springframework.data.repository.query.Param("options") int options);

    /** Locks one conversion row (waiting for other writers). */
    @Query(value = "SELECT * FROM conversion WHERE id = :id FOR UPDATE", nativeQuery = true)
    Optional<Conversion> lock(@Param("id") long id);

    Optional<Conversion> findByVersionId(long versionId);

    List<Conversion> findByStateInOrderByIdDesc(List<String> states);
}

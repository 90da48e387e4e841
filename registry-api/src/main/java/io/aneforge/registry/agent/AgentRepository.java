package io.aneforge.registry.agent;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Modifying;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;

interface AgentRepository extends JpaRepository<Agent, UUID> {

    Optional<Agent> findByHostName(String hostName);

    List<Agent> findAllByOrderByHostName();

    /** Marks the agent as heard from; a plain UPDATE so a busy agent costs no entity load. */
    @Modifying
    @Query(nativeQuery = true, value = "UPDATE agent SET last_seen_at = :now WHERE id = :id")
    int touch(@Param("id") UUID id, @Param("now") Instant now);
}

package io.aneforge.registry.agent;

import jakarta.persistence.LockModeType;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

interface AgentRepository extends JpaRepository<Agent, UUID> {

    Optional<Agent> findByHostName(String hostName);

    /** The host's row, locked: who owns it is decided once per registration, not by the last writer. */
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("SELECT a FROM Agent a WHERE a.hostName = :hostName")
    Optional<Agent> lockByHostName(String hostName);

    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("SELECT a FROM Agent a WHERE a.id = :id")
    Optional<Agent> lockById(UUID id);

    List<Agent> findAllByOrderByHostName();
}

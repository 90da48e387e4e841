package io.aneforge.registry.agent;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.data.jpa.repository.JpaRepository;

interface AgentRepository extends JpaRepository<Agent, UUID> {

    Optional<Agent> findByHostName(String hostName);

    List<Agent> findAllByOrderByHostName();
}

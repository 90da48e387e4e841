package io.aneforge.registry.agent;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A registered device host (table {@code agent}). */
@Entity
@Table(name = "agent")
public class Agent {

    @Id
    private UUID id;
    @Column(name = "host_name", nullable = false, unique = true)
    private String hostName;
    @Column(name = "os_name", nullable = false)
    private String osName;
    @Column(name = "os_version", nullable = false)
    private String osVersion;
    @Column(name = "os_build", nullable = false)
    private String osBuild;
    @Column(nullable = false)
    private String arch;
    @Column(name = "cpu_brand", nullable = false)
    private String cpuBrand;
    @Column(name = "memory_bytes", nullable = false)
    private long memoryBytes;
    private String chip;
    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(nullable = false, columnDefinition = "text[]")
    private String[] runtimes;
    /** The newest golden data format version the agent reads (1 for agents that do not say: from before V26). */
    @Column(name = "golden_format", nullable = false)
    private int goldenFormat = 1;
    @Column(name = "token_id")
    private Long tokenId;
    @Column(name = "registered_by", nullable = false)
    private String registeredBy;
    @Column(name = "registered_at", nullable = false)
    private Instant registeredAt;
    @Column(name = "last_seen_at", nullable = false)
    private Instant lastSeenAt;
    @Column(nullable = false)
    private boolean draining;
    /** Set by an admin's retirement (hidden from lists); cleared when the agent is heard from again. */
    @Column(name = "retired_at")
    private Instant retiredAt;
    @Column(name = "retired_by")
    private String retiredBy;

    protected Agent() {}

    Agent(UUID id, String hostName, Instant now) {
        this.id = id;
        this.hostName = hostName;
        this.registeredAt = now;
        this.lastSeenAt = now;
    }

    /** Records what the host says about itself (a re-registration may change OS build, runtimes, token). */
    void describe(Agents.NewAgent n, Long tokenId, String by, Instant now) {
        this.osName = n.osName();
        this.osVersion = n.osVersion();
        this.osBuild = n.osBuild();
        this.arch = n.arch();
        this.cpuBrand = n.cpuBrand();
        this.memoryBytes = n.memoryBytes();
        this.chip = n.chip();
        this.runtimes = n.runtimes().toArray(String[]::new);
        this.goldenFormat = n.goldenFormat();
        this.tokenId = tokenId;
        this.registeredBy = by;
        this.registeredAt = now;
        this.lastSeenAt = now;
        this.draining = false;
        this.retiredAt = null;
        this.retiredBy = null;
    }

    void retire(String by, Instant now) {
        this.retiredAt = now;
        this.retiredBy = by;
    }

    /** An admin's handover: from now on only {@code tokenId} (or an admin) acts as this host. */
    void handTo(long tokenId) {
        this.tokenId = tokenId;
    }

    public UUID id() { return id; }
    public String hostName() { return hostName; }
    public String osName() { return osName; }
    public String osVersion() { return osVersion; }
    public String osBuild() { return osBuild; }
    public String arch() { return arch; }
    public String cpuBrand() { return cpuBrand; }
    public long memoryBytes() { return memoryBytes; }
    public String chip() { return chip; }
    public List<String> runtimes() { return List.copyOf(Arrays.asList(runtimes)); }
    public int goldenFormat() { return goldenFormat; }
    public Long tokenId() { return tokenId; }
    public String registeredBy() { return registeredBy; }
    public Instant registeredAt() { return registeredAt; }
    public Instant lastSeenAt() { return lastSeenAt; }
    public boolean draining() { return draining; }
    public Instant retiredAt() { return retiredAt; }
    public String retiredBy() { return retiredBy; }
}

package io.aneforge.registry.auth;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.cache.ExpiringCache;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * API tokens: minted here, stored as sha256 hashes, looked up through a short cache so that a
 * resolve call costs no database round trip. {@code last_used_at} is written when the cache
 * refreshes, so it is accurate to within {@code aneforge.cache-ttl}.
 */
@Component
public class Tokens {

    /** {@code models}: the models the token may write to (null: every model), as for {@link TokenInfo}. */
    public record Minted(long id, String name, String role, List<String> models, String token) {}

    /** {@code models} null: the token may write to every model ({@link ModelScope}). */
    public record TokenInfo(long id, String name, String role, List<String> models, String createdBy,
                            OffsetDateTime createdAt, OffsetDateTime lastUsedAt, OffsetDateTime revokedAt) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;
    private final String adminTokenHash;
    private final ExpiringCache<String, Optional<Caller>> cache;

    Tokens(JdbcClient jdbc, RegistryProperties props) {
        this.jdbc = jdbc;
        String admin = props.adminToken();
        this.adminTokenHash = admin == null || admin.isBlank() ? null : sha256Hex(admin);
        this.cache = new ExpiringCache<>(props.cacheTtl(), 10_000);
    }

    public static String sha256Hex(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Optional<Caller> authenticate(String token) {
        String hash = sha256Hex(token);
        if (adminTokenHash != null && MessageDigest.isEqual(hash.getBytes(StandardCharsets.US_ASCII),
                adminTokenHash.getBytes(StandardCharsets.US_ASCII))) {
            return Optional.of(new Caller(null, "bootstrap-admin", Role.ADMIN));
        }
        return cache.get(hash, this::load);
    }

    private Optional<Caller> load(String hash) {
        Optional<Caller> c = jdbc.sql("UPDATE api_token SET last_used_at = now() WHERE token_sha256 = ? AND revoked_at IS NULL"
                        + " RETURNING id, name, role, models")
                .param(hash)
                .query((rs, i) -> new Caller(rs.getLong("id"), rs.getString("name"), Role.fromWire(rs.getString("role")),
                        new ModelScope(models(rs.getArray("models")))))
                .optional();
        return c;
    }

    public Minted mint(String name, Role role, ModelScope scope, Caller by) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String token = "af_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        long id = jdbc.sql("INSERT INTO api_token (name, role, models, token_sha256, created_by) VALUES (?, ?, ?, ?, ?)"
                        + " RETURNING id")
                .params(name, role.wireName(), scope.all() ? null : scope.patterns().toArray(String[]::new),
                        sha256Hex(token), by.name())
                .query(Long.class).single();
        return new Minted(id, name, role.wireName(), scope.patterns(), token);
    }

    public List<TokenInfo> list() {
        return jdbc.sql("SELECT id, name, role, models, created_by, created_at, last_used_at, revoked_at FROM api_token"
                        + " ORDER BY id")
                .query((rs, i) -> new TokenInfo(rs.getLong(1), rs.getString(2), rs.getString(3), models(rs.getArray(4)),
                        rs.getString(5), rs.getObject(6, OffsetDateTime.class), rs.getObject(7, OffsetDateTime.class),
                        rs.getObject(8, OffsetDateTime.class)))
                .list();
    }

    private static List<String> models(java.sql.Array array) throws java.sql.SQLException {
        return array == null ? null : List.of((String[]) array.getArray());
    }

    /** What a revoke found. */
    public enum Revocation { REVOKED, ALREADY_REVOKED, NO_SUCH_TOKEN }

    public Revocation revoke(long id) {
        // Only a live token changes, so a repeat (or a concurrent revoke that lost) reports ALREADY_REVOKED.
        int n = jdbc.sql("UPDATE api_token SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL").param(id).update();
        cache.invalidateAfterCommit(); // at once here (no transaction); after the commit inside one
        if (n > 0) return Revocation.REVOKED;
        boolean exists = jdbc.sql("SELECT count(*) FROM api_token WHERE id = ?").param(id).query(Long.class).single() > 0;
        return exists ? Revocation.ALREADY_REVOKED : Revocation.NO_SUCH_TOKEN;
    }
}

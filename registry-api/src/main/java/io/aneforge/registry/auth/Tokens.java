package io.aneforge.registry.auth;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.cache.ExpiringCache;
import io.aneforge.registry.problem.ApiProblem;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
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
    private final TokenProperties settings;

    Tokens(JdbcClient jdbc, RegistryProperties props, TokenProperties settings) {
        this.jdbc = jdbc;
        this.settings = settings;
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

    private static final String INFO_SELECT = "SELECT id, name, role, models, created_by, created_at, last_used_at,"
            + " revoked_at FROM api_token";

    public List<TokenInfo> list() {
        return jdbc.sql(INFO_SELECT + " ORDER BY id").query(Tokens::info).list();
    }

    private static TokenInfo info(ResultSet rs, int i) throws SQLException {
        return new TokenInfo(rs.getLong(1), rs.getString(2), rs.getString(3), models(rs.getArray(4)), rs.getString(5),
                rs.getObject(6, OffsetDateTime.class), rs.getObject(7, OffsetDateTime.class),
                rs.getObject(8, OffsetDateTime.class));
    }

    /** A token's models before and after {@link #changeScope}; {@code token} is the row as it is now. */
    public record ScopeChange(TokenInfo token, List<String> before) {}

    /**
     * Replaces the models a token may write to ({@code scope}, already parsed as at minting). The row is locked, so
     * two changes of one token do not interleave. Refused: an unknown token (404), a revoked one (409: it can never
     * write again, changing it would only blur the audit trail), a scope on a role that takes none (400, the mint's
     * rule: only a publisher writes to the models it names, so this cannot turn a worker, agent or admin token into
     * something else), and every model for a publisher while {@link TokenProperties#publisherModelsRequired} is on.
     * Changing nothing (the same models, or every model for an unlimited token) is no change and is not audited.
     * The cached look-ups are dropped once the change commits, so this instance's next request with the token
     * already has the new scope; other instances within {@code aneforge.cache-ttl}.
     */
    public Audit.Outcome<ScopeChange> changeScope(long id, ModelScope scope) {
        TokenInfo before = jdbc.sql(INFO_SELECT + " WHERE id = ? FOR UPDATE").param(id).query(Tokens::info).optional()
                .orElseThrow(() -> notFound(id));
        if (before.revokedAt() != null) {
            throw ApiProblem.conflict("token-revoked", "Token revoked", "token " + id + " ('" + before.name()
                            + "') was revoked at " + before.revokedAt() + "; a revoked token cannot be changed: mint a"
                            + " new one with POST /api/v1/tokens")
                    .with("tokenId", id);
        }
        Role role = Role.fromWire(before.role());
        if (!scope.all() && role != Role.PUBLISHER) throw ModelScope.notSupported(role);
        if (Objects.equals(before.models(), scope.patterns())) {
            // a change of nothing is answered as such, even where a setting now refuses that scope for new tokens
            return new Audit.Outcome<>(new ScopeChange(before, before.models()), false);
        }
        settings.requireScope(role, scope, "limit it");
        jdbc.sql("UPDATE api_token SET models = ? WHERE id = ?")
                .params(scope.all() ? null : scope.patterns().toArray(String[]::new), id).update();
        cache.invalidateAfterCommit();
        TokenInfo after = jdbc.sql(INFO_SELECT + " WHERE id = ?").param(id).query(Tokens::info).single();
        return new Audit.Outcome<>(new ScopeChange(after, before.models()), true);
    }

    static ApiProblem notFound(long id) {
        return ApiProblem.notFound("token-not-found", "Token not found",
                "no token with id " + id + "; list tokens with GET /api/v1/tokens");
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

package io.aneforge.testsupport.postgres;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fresh PostgreSQL database for this test JVM, so concurrent or repeated runs never see each
 * other's data. The server is found in this order:
 * <ol>
 *   <li>{@code ANEFORGE_TEST_JDBC_URL} (environment or system property), e.g.
 *       {@code jdbc:postgresql://db:5432/postgres?user=postgres&password=secret}</li>
 *   <li>{@code 127.0.0.1:5432} as user postgres, if it answers</li>
 *   <li>a Testcontainers PostgreSQL (needs Docker)</li>
 * </ol>
 * A database {@code aneforge_test_<random>} is created once per JVM and dropped at JVM exit (best effort).
 *
 * <p>Spring tests: {@code @DynamicPropertySource static void db(DynamicPropertyRegistry r) {
 * TestDatabase.springProperties().forEach((k, v) -> r.add(k, () -> v)); }}
 */
public final class TestDatabase {

    public static final String ENV = "ANEFORGE_TEST_JDBC_URL";
    private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/?]+/)([^?]*)(\\?.*)?");

    private static volatile TestDatabase instance;

    private final String jdbcUrl;
    private final String username;
    private final String password;
    private final String name;

    private TestDatabase(String jdbcUrl, String username, String password, String name) {
        this.jdbcUrl = jdbcUrl;
        this.username = username;
        this.password = password;
        this.name = name;
    }

    /** JDBC URL of this JVM's fresh database (created on first call). */
    public static String jdbcUrl() {
        return get().jdbcUrl;
    }

    public static String username() {
        return get().username;
    }

    public static String password() {
        return get().password;
    }

    /** The database's name, {@code aneforge_test_<random>}. */
    public static String name() {
        return get().name;
    }

    /** {@code spring.datasource.*} properties pointing at the fresh database. */
    public static Map<String, String> springProperties() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("spring.datasource.url", jdbcUrl());
        m.put("spring.datasource.username", username());
        m.put("spring.datasource.password", password());
        return m;
    }

    public static Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), username(), password());
    }

    /**
     * A second database for this JVM, {@code <name>_<purpose>}, owned by a role of its own ({@code <name>_<purpose>},
     * LOGIN with a random password, no superuser, no CREATEDB, no CREATEROLE), both dropped at JVM exit. For a
     * service that must run with least privilege beside this JVM's database (the converter worker's job
     * repository): it may create what it needs in its own database and cannot read {@link #name()}'s tables.
     * Reach it through the instance's {@link #url()}, {@link #user()}, {@link #userPassword()} and {@link #open()}: the
     * static {@code jdbcUrl()}, {@code springProperties()}, ... always name this JVM's main database.
     *
     * @param purpose lower-case letters, digits and {@code _}
     */
    public static TestDatabase ofOwnUser(String purpose) {
        if (!purpose.matches("[a-z0-9_]{1,20}")) {
            throw new IllegalArgumentException("purpose '" + purpose + "': lower-case letters, digits and _ only (1-20)");
        }
        TestDatabase main = get();
        Server server = locate();
        String name = main.name + "_" + purpose;
        String password = Long.toUnsignedString(new SecureRandom().nextLong(), 36);
        try (Connection c = DriverManager.getConnection(server.adminUrl(), server.username(), server.password());
             Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + name + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '" + password + "'");
            s.execute("CREATE DATABASE " + name + " OWNER " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create role and database " + name + " at " + server.adminUrl() + ": "
                    + e.getMessage() + " (set " + ENV + " to a PostgreSQL URL whose user may CREATE ROLE and CREATE DATABASE)", e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            drop(server, name);
            try (Connection c = DriverManager.getConnection(server.adminUrl(), server.username(), server.password());
                 Statement s = c.createStatement()) {
                s.execute("DROP ROLE IF EXISTS " + name);
            } catch (SQLException ignored) {
                // Best effort, as for the databases.
            }
        }, "drop-" + name));
        Matcher m = URL.matcher(main.jdbcUrl);
        if (!m.matches()) throw new IllegalStateException("unexpected JDBC URL " + main.jdbcUrl);
        // the admin's user/password in the query string would outrank the role's (the driver reads the URL's first)
        String query = m.group(3) == null ? "" : m.group(3).substring(1).replaceAll("(^|&)(user|password)=[^&]*", "")
                .replaceFirst("^&", "");
        return new TestDatabase(m.group(1) + name + (query.isEmpty() ? "" : "?" + query), name, password, name);
    }

    /** This database's JDBC URL (for a database from {@link #ofOwnUser}). */
    public String url() {
        return jdbcUrl;
    }

    /** This database's user. */
    public String user() {
        return username;
    }

    /** This database's user's password. */
    public String userPassword() {
        return password;
    }

    /** This database's name. */
    public String databaseName() {
        return name;
    }

    /** A connection as this database's user. */
    public Connection open() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, username, password);
    }

    private static TestDatabase get() {
        TestDatabase db = instance;
        if (db == null) {
            synchronized (TestDatabase.class) {
                if (instance == null) instance = create();
                db = instance;
            }
        }
        return db;
    }

    private record Server(String adminUrl, String username, String password) {}

    private static TestDatabase create() {
        Server server = locate();
        String name = "aneforge_test_" + Long.toUnsignedString(new SecureRandom().nextLong(), 36);
        try (Connection c = DriverManager.getConnection(server.adminUrl(), server.username(), server.password());
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + " at " + server.adminUrl() + ": "
                    + e.getMessage() + " (set " + ENV + " to a PostgreSQL URL whose user may CREATE DATABASE)", e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> drop(server, name), "drop-" + name));
        Matcher m = URL.matcher(server.adminUrl());
        if (!m.matches()) throw new IllegalStateException("unexpected JDBC URL " + server.adminUrl());
        String url = m.group(1) + name + (m.group(3) == null ? "" : m.group(3));
        return new TestDatabase(url, server.username(), server.password(), name);
    }

    private static void drop(Server server, String name) {
        try (Connection c = DriverManager.getConnection(server.adminUrl(), server.username(), server.password());
             Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (SQLException ignored) {
            // Best effort: a leftover aneforge_test_* database is harmless and easy to spot.
        }
    }

    private static Server locate() {
        String configured = System.getProperty(ENV, System.getenv(ENV));
        if (configured != null && !configured.isBlank()) {
            Matcher m = URL.matcher(configured);
            if (!m.matches()) {
                throw new IllegalStateException(ENV + "='" + configured + "' is not a jdbc:postgresql://host:port/db URL");
            }
            // user/password may be in the query string; DriverManager reads them from there.
            return new Server(configured, userFrom(m.group(3), "user"), userFrom(m.group(3), "password"));
        }
        if (answers("127.0.0.1", 5432)) {
            return new Server("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
        }
        return Containers.start();
    }

    private static String userFrom(String query, String key) {
        if (query == null) return null;
        for (String kv : query.substring(1).split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0 && kv.substring(0, eq).equals(key)) return kv.substring(eq + 1);
        }
        return null;
    }

    private static boolean answers(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** Kept apart so Testcontainers classes load only when needed. */
    private static final class Containers {
        static Server start() {
            try {
                @SuppressWarnings("resource") // stopped by Testcontainers' Ryuk at JVM exit
                org.testcontainers.postgresql.PostgreSQLContainer pg =
                        new org.testcontainers.postgresql.PostgreSQLContainer("postgres:17-alpine");
                pg.start();
                return new Server(pg.getJdbcUrl().replaceFirst("/[^/?]+(\\?|$)", "/postgres$1"), pg.getUsername(), pg.getPassword());
            } catch (RuntimeException e) {
                throw new IllegalStateException("no PostgreSQL: " + ENV + " is unset, nothing answers at 127.0.0.1:5432, and "
                        + "Testcontainers could not start one (" + e.getMessage() + "). Start PostgreSQL or set " + ENV, e);
            }
        }
    }
}

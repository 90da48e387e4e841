package io.aneforge.diagnostics;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.env.Environment;

/**
 * Turns the start failures a user causes with the database settings (the database missing, PostgreSQL not
 * reachable, the user or password refused) into a few lines naming the problem and the fix, in place of the
 * hundred-frame stack trace Spring Boot prints for an unanalysed failure. Anything else (a failed migration,
 * a driver bug) is left to Spring Boot's own report: its stack trace is what is needed there.
 *
 * <p>Registered in {@code META-INF/spring.factories}; Spring Boot passes the {@link Environment} to the
 * constructor so the report can show the configured URL and user. One copy for the registry and the worker,
 * each of which names itself in the report through {@code spring.application.name}.
 */
public final class DatabaseFailureAnalyzer implements FailureAnalyzer {

    /** SQLSTATE classes (PostgreSQL's codes, pgjdbc's 08xxx for connection failures). */
    private static final String DATABASE_MISSING = "3D000";
    private static final String AUTHORIZATION_CLASS = "28";
    private static final String CONNECTION_CLASS = "08";

    private static final Pattern POSTGRES_URL =
            Pattern.compile("jdbc:postgresql://(?<host>[^/:?]+|\\[[^]]+\\])(?::(?<port>\\d+))?/(?<db>[^?;]*).*");

    private final Environment environment;

    public DatabaseFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        SQLException sql = deepestSqlException(failure);
        if (sql == null || sql.getSQLState() == null) {
            return null;
        }
        String state = sql.getSQLState();
        Settings settings = settings();
        String application = environment.getProperty("spring.application.name", "the application");
        if (state.equals(DATABASE_MISSING)) {
            return new FailureAnalysis(
                    application + " cannot start: the database " + quoted(settings.database()) + " does not exist on "
                            + settings.server() + " (" + firstLine(sql) + "; spring.datasource.url = " + settings.url() + ").",
                    "Create it first, e.g. `createdb -h " + settings.host() + " -p " + settings.port() + " -U "
                            + settings.user() + " " + settings.database() + "` (or in psql: CREATE DATABASE "
                            + settings.database() + ";), or set SPRING_DATASOURCE_URL to an existing database. "
                            + "The schema is created by the application at start. (`./aneforge up` creates its database itself.)",
                    sql);
        }
        if (state.startsWith(AUTHORIZATION_CLASS)) {
            return new FailureAnalysis(
                    application + " cannot start: PostgreSQL at " + settings.server() + " refused user "
                            + quoted(settings.user()) + " (" + firstLine(sql) + ").",
                    "Set SPRING_DATASOURCE_USERNAME and SPRING_DATASOURCE_PASSWORD to a PostgreSQL user allowed to connect "
                            + "to " + quoted(settings.database()) + " (and check pg_hba.conf allows it from this host).",
                    sql);
        }
        if (state.startsWith(CONNECTION_CLASS) && unreachable(sql)) {
            return new FailureAnalysis(
                    application + " cannot start: PostgreSQL at " + settings.server() + " cannot be reached ("
                            + firstLine(sql) + "; spring.datasource.url = " + settings.url() + ").",
                    "Start PostgreSQL, or set SPRING_DATASOURCE_URL to where it runs "
                            + "(jdbc:postgresql://HOST:PORT/DATABASE).",
                    sql);
        }
        return null;
    }

    /** The SQLException nearest the root: the driver's own, rather than a wrapper's restatement of it. */
    private static SQLException deepestSqlException(Throwable failure) {
        SQLException found = null;
        for (Throwable t = failure; t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                found = sql;
            }
        }
        return found;
    }

    /** A connection-class failure caused by the network: not e.g. a server closing a connection mid-migration. */
    private static boolean unreachable(SQLException sql) {
        for (Throwable t = sql; t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException
                    || t instanceof NoRouteToHostException || t instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(SQLException sql) {
        String message = String.valueOf(sql.getMessage()).strip();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline).strip();
    }

    private static String quoted(String s) {
        return "'" + s + "'";
    }

    private Settings settings() {
        String url = environment.getProperty("spring.datasource.url", "");
        // Query parameters may carry a password (…?password=…): never print them.
        int query = url.indexOf('?');
        String shown = query < 0 ? url : url.substring(0, query) + "?…";
        String user = environment.getProperty("spring.datasource.username", "postgres");
        Matcher m = POSTGRES_URL.matcher(url);
        if (!m.matches()) {
            return new Settings(shown, "HOST", "5432", "DATABASE", user);
        }
        String port = m.group("port") == null ? "5432" : m.group("port");
        String db = m.group("db").isEmpty() ? user : m.group("db");
        return new Settings(shown, m.group("host"), port, db, user);
    }

    private record Settings(String url, String host, String port, String database, String user) {
        String server() {
            return host + ":" + port;
        }
    }
}

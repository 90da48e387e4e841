package io.aneforge.cli.up;

import io.aneforge.cli.CommandFailure;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registry's PostgreSQL database for {@code up}: {@code SPRING_DATASOURCE_URL} as given, or
 * {@code jdbc:postgresql://127.0.0.1:5432/<name>}, created (through the {@code postgres} maintenance
 * database) when it does not exist yet.
 */
public final class Database {

    private static final Pattern URL = Pattern.compile("jdbc:postgresql://([^/?]+)/([^/?]+)(\\?.*)?");

    private Database() {
    }

    /** Makes sure the database of {@code url} exists; returns {@code true} if it was created now. */
    public static boolean ensure(String url, String user, String password) {
        Matcher m = URL.matcher(url);
        if (!m.matches()) {
            throw new CommandFailure("SPRING_DATASOURCE_URL '" + url + "' is not of the form "
                    + "jdbc:postgresql://host:port/database: fix it or unset it for jdbc:postgresql://127.0.0.1:5432/aneforge");
        }
        String hostPort = m.group(1);
        String name = m.group(2);
        String admin = "jdbc:postgresql://" + hostPort + "/postgres" + (m.group(3) == null ? "" : m.group(3));
        java.util.Properties props = new java.util.Properties();
        props.setProperty("user", user);
        if (password != null) props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        try (Connection c = DriverManager.getConnection(admin, props)) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) return false;
                }
            }
            try (Statement st = c.createStatement()) {
                // A quoted identifier: any name (my-db) as is, a double quote doubled.
                st.execute("CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"");
            }
            return true;
        } catch (SQLException e) {
            throw failure(e, hostPort, name, user);
        }
    }

    /**
     * Why the maintenance connection failed, and the fix. "Did not answer" (nothing listens, a timeout, an
     * unknown host: start one or point elsewhere) is told apart from a server that answered and refused
     * (login, SSL, a missing database, privileges), whose fix is in the settings, not in starting a server.
     */
    static CommandFailure failure(SQLException e, String hostPort, String name, String user) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String host = hostPort.replaceAll(":[0-9]*$", "");
        if (noAnswer(e)) {
            return new CommandFailure("PostgreSQL at " + hostPort + " did not answer (" + e.getMessage() + "): start one, "
                    + "e.g. 'docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17', "
                    + "or point SPRING_DATASOURCE_URL (and SPRING_DATASOURCE_USERNAME/PASSWORD) at yours", e);
        }
        if (state.startsWith("28") || state.equals("42501")) {
            // It answered: the user or password is what is wrong, not the server.
            return new CommandFailure("PostgreSQL at " + hostPort + " refused user '" + user + "' (" + e.getMessage()
                    + "): set SPRING_DATASOURCE_USERNAME/SPRING_DATASOURCE_PASSWORD to a role that may create databases "
                    + "(or create the database " + name + " yourself), or create that role, e.g. "
                    + "'createuser -h " + host + " -U postgres --createdb " + user + "'", e);
        }
        if (state.startsWith("3D")) {
            return new CommandFailure("PostgreSQL at " + hostPort + " answered but has no database 'postgres', through which up "
                    + "creates " + name + " (" + e.getMessage() + "): create the database " + name + " yourself ('createdb -h "
                    + host + " " + name + "'), or point SPRING_DATASOURCE_URL at an existing one", e);
        }
        if (String.valueOf(e.getMessage()).contains("SSL")) {
            return new CommandFailure("PostgreSQL at " + hostPort + " answered but the connection's SSL settings do not match "
                    + "the server's (" + e.getMessage() + "): change sslmode in SPRING_DATASOURCE_URL (e.g. drop sslmode=require "
                    + "for a server without SSL), or turn SSL on in the server's postgresql.conf", e);
        }
        if (state.startsWith("08") || state.isEmpty()) {
            return new CommandFailure("PostgreSQL at " + hostPort + " answered but refused the connection (" + e.getMessage()
                    + "): check the parameters in SPRING_DATASOURCE_URL and the server's log", e);
        }
        return new CommandFailure("PostgreSQL at " + hostPort + " could not create the database " + name + " ("
                + e.getMessage() + "): create it yourself or point SPRING_DATASOURCE_URL at an existing one", e);
    }

    /** Nothing answered: refused, unreachable, unknown host or a timeout, somewhere in the cause chain. */
    private static boolean noAnswer(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.SocketTimeoutException
                    || t instanceof java.net.UnknownHostException || t instanceof java.net.NoRouteToHostException
                    || t instanceof java.net.PortUnreachableException) {
                return true;
            }
        }
        return false;
    }
}

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
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("28") || state.startsWith("3D") || state.equals("42501")) {
                // It answered: the user, password or maintenance database is what is wrong, not the server.
                throw new CommandFailure("PostgreSQL at " + hostPort + " refused user '" + user + "' (" + e.getMessage()
                        + "): set SPRING_DATASOURCE_USERNAME/SPRING_DATASOURCE_PASSWORD to a role that may create databases "
                        + "(or create the database " + name + " yourself), or create that role, e.g. "
                        + "'createuser -h " + m.group(1).replaceAll(":.*", "") + " -U postgres --createdb " + user + "'", e);
            }
            if (!state.startsWith("08") && !state.isEmpty()) {
                throw new CommandFailure("PostgreSQL at " + hostPort + " could not create the database " + name + " ("
                        + e.getMessage() + "): create it yourself or point SPRING_DATASOURCE_URL at an existing one", e);
            }
            throw new CommandFailure("PostgreSQL at " + hostPort + " did not answer (" + e.getMessage() + "): start one, "
                    + "e.g. 'docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17', "
                    + "or point SPRING_DATASOURCE_URL (and SPRING_DATASOURCE_USERNAME/PASSWORD) at yours", e);
        }
    }
}

package io.aneforge.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.testsupport.postgres.TestDatabase;
import java.net.ServerSocket;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * The database failures a user causes are reported in a few lines naming the fix. The exceptions are the real
 * driver's, from connecting to the local PostgreSQL (a database that is not there, a role that is not there) and to
 * a port nobody listens on, wrapped the way Spring wraps them in a failed start.
 */
@ExtendWith(OutputCaptureExtension.class)
class DatabaseFailureAnalyzerTest {

    private static final String MISSING = "aneforge_missing_f4";

    @Test
    void aMissingDatabaseNamesCreatedbAndTheUrl() {
        String url = urlFor(MISSING);
        FailureAnalysis analysis = analyze(url, TestDatabase.username(), connect(url, TestDatabase.username()));

        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription())
                .contains("aneforge-registry cannot start", "'" + MISSING + "' does not exist", url);
        assertThat(analysis.getAction()).contains("createdb", "-U " + TestDatabase.username() + " " + MISSING,
                "CREATE DATABASE " + MISSING, "SPRING_DATASOURCE_URL");
    }

    @Test
    void anUnknownRoleNamesTheUserSettings() {
        String url = TestDatabase.jdbcUrl();
        FailureAnalysis analysis = analyze(url, "nobody_f4", connect(url, "nobody_f4"));

        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).contains("refused user 'nobody_f4'", "nobody_f4");
        assertThat(analysis.getAction()).contains("SPRING_DATASOURCE_USERNAME", "SPRING_DATASOURCE_PASSWORD");
    }

    @Test
    void anUnreachableServerSaysSoAndHidesQueryParameters() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/aneforge?password=secret";
        FailureAnalysis analysis = analyze(url, "postgres", connect(url, "postgres"));

        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).contains("127.0.0.1:" + port + " cannot be reached").doesNotContain("secret");
        assertThat(analysis.getAction()).contains("Start PostgreSQL", "SPRING_DATASOURCE_URL");
    }

    @Test
    void otherFailuresAreLeftToSpringBoot() {
        StandardEnvironment env = environment(TestDatabase.jdbcUrl(), "postgres");
        DatabaseFailureAnalyzer analyzer = new DatabaseFailureAnalyzer(env);
        assertThat(analyzer.analyze(new BeanCreationException("x", new IllegalStateException("no SQL here")))).isNull();
        // a syntax error in a migration is not a settings problem: its stack trace is what helps
        assertThat(analyzer.analyze(new BeanCreationException("x", new SQLException("syntax error", "42601")))).isNull();
    }

    /** A real start (Spring Boot's loading of spring.factories and its reporter) against a missing database. */
    @Test
    void aRealStartAgainstAMissingDatabaseEndsInTheShortReport(CapturedOutput output) {
        SpringApplication app = new SpringApplication(DatabaseOnly.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        // command-line arguments: they win over the application.yml on the class path, as SPRING_DATASOURCE_URL does
        String[] args = {
            "--spring.datasource.url=" + urlFor(MISSING),
            "--spring.datasource.username=" + TestDatabase.username(),
            "--spring.datasource.password=" + TestDatabase.password()};

        assertThatThrownBy(() -> app.run(args)).isInstanceOf(BeanCreationException.class);

        assertThat(output.getOut() + output.getErr())
                .contains("APPLICATION FAILED TO START", "'" + MISSING + "' does not exist", "createdb")
                .doesNotContain("Application run failed", "\tat org.flywaydb");
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({DataSourceAutoConfiguration.class, FlywayAutoConfiguration.class})
    static class DatabaseOnly {}

    private static String urlFor(String database) {
        return TestDatabase.jdbcUrl().replace("/" + TestDatabase.name(), "/" + database);
    }

    private static SQLException connect(String url, String user) {
        try (var c = DriverManager.getConnection(url, user, TestDatabase.password())) {
            throw new AssertionError("connected to " + url + " as " + user);
        } catch (SQLException e) {
            return e;
        }
    }

    /** The driver's exception wrapped as in a failed start: bean creation around Flyway's wrapper around it. */
    private static FailureAnalysis analyze(String url, String user, SQLException driver) {
        Throwable flyway = new RuntimeException("Unable to obtain connection from database: " + driver.getMessage(), driver);
        Throwable failure = new BeanCreationException("Error creating bean with name 'flywayInitializer'", flyway);
        return new DatabaseFailureAnalyzer(environment(url, user)).analyze(failure);
    }

    private static StandardEnvironment environment(String url, String user) {
        StandardEnvironment env = new StandardEnvironment();
        env.getPropertySources().addFirst(new MapPropertySource("test", Map.of(
                "spring.application.name", "aneforge-registry",
                "spring.datasource.url", url,
                "spring.datasource.username", user)));
        return env;
    }
}

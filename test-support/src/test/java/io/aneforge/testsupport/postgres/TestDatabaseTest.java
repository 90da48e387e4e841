package io.aneforge.testsupport.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class TestDatabaseTest {

    @Test
    void givesAFreshPrivateDatabase() throws Exception {
        assertThat(TestDatabase.name()).startsWith("aneforge_test_");
        assertThat(TestDatabase.jdbcUrl()).contains("/" + TestDatabase.name());
        try (Connection c = TestDatabase.connect(); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT current_database(), count(*) FROM information_schema.tables WHERE table_schema = 'public'");
            rs.next();
            assertThat(rs.getString(1)).isEqualTo(TestDatabase.name());
            assertThat(rs.getInt(2)).isZero();
        }
        assertThat(TestDatabase.springProperties()).containsEntry("spring.datasource.url", TestDatabase.jdbcUrl());
    }
}

package io.aneforge.registry;

import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.VariantPolicy;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

@SpringBootApplication
@EnableConfigurationProperties(RegistryProperties.class)
public class RegistryApplication {

    public static void main(String[] args) {
        SpringApplication.run(RegistryApplication.class, args);
    }

    @Bean
    ChipCatalog chipCatalog() {
        return ChipCatalog.builtIn();
    }

    @Bean
    VariantPolicy variantPolicy(ChipCatalog catalog) {
        return new VariantPolicy(catalog);
    }
}

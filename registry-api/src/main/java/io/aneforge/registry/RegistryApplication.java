package io.aneforge.registry;

import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.VariantPolicy;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.security.SecurityScheme;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

@SpringBootApplication
@EnableConfigurationProperties(RegistryProperties.class)
@OpenAPIDefinition(info = @Info(title = "ANE Forge registry", version = "v1",
        description = "Models, versions, variants, blobs, aliases, tokens and resolve. Errors are RFC 9457 problem+json."),
        security = @SecurityRequirement(name = "bearer"))
@SecurityScheme(name = "bearer", type = SecuritySchemeType.HTTP, scheme = "bearer",
        description = "An API token (POST /api/v1/tokens, or ANEFORGE_ADMIN_TOKEN for the bootstrap admin)")
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

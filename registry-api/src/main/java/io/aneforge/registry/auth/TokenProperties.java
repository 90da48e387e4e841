package io.aneforge.registry.auth;

import io.aneforge.registry.problem.ApiProblem;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;

/**
 * {@code aneforge.tokens.*} (application.yml, environment {@code ANEFORGE_TOKENS_*}).
 *
 * @param publisherModelsRequired a new publisher token must name its models ({@link ModelScope}): minting one without
 *     {@code models}, or changing one's models to every model, is refused (400 {@code model-scope-required}). Off by
 *     default, where a publisher token minted without {@code models} may write to every model. Tokens that exist
 *     when it is switched on keep their scope (list them with {@code GET /api/v1/tokens}: {@code models} null) until
 *     an admin limits them ({@code PATCH /api/v1/tokens/{id}}) or revokes them.
 */
@ConfigurationProperties("aneforge.tokens")
public record TokenProperties(Boolean publisherModelsRequired) {

    static final String SETTING = "aneforge.tokens.publisher-models-required (ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED)";

    public TokenProperties {
        if (publisherModelsRequired == null) publisherModelsRequired = Boolean.FALSE;
    }

    /** 400 {@code model-scope-required} when this registry requires a publisher token to name its models. */
    void requireScope(Role role, ModelScope scope, String fix) {
        if (!publisherModelsRequired || role != Role.PUBLISHER || !scope.all()) return;
        throw ApiProblem.badRequest("model-scope-required", "Model scope required",
                        "this registry requires every new publisher token to name the models it may write to (" + SETTING
                                + " is on); " + fix + " with \"models\": model names or prefixes ending in '*'"
                                + " (e.g. [\"team-a-*\", \"bert-base\"])")
                .with("setting", "aneforge.tokens.publisher-models-required");
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(TokenProperties.class)
    static class Enable {}
}

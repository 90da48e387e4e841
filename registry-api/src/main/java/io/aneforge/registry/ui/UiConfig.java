package io.aneforge.registry.ui;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The web UI: static files under {@code classpath:/static/ui/} (no CDN, no build step). They are
 * served without a token; the pages call {@code /api/v1} with the token the user enters, which the
 * token interceptor (registered for {@code /api/**} only) checks as for any client.
 */
@Configuration
class UiConfig implements WebMvcConfigurer {

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        registry.addRedirectViewController("/ui", "/ui/");
        registry.addViewController("/ui/").setViewName("forward:/ui/index.html");
    }
}

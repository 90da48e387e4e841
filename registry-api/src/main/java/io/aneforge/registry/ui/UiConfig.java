package io.aneforge.registry.ui;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.Resource;
import org.springframework.http.CacheControl;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.ResourceHandlerRegistry;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The web UI: static files under {@code classpath:/static/ui/} (no CDN, no build step). They are
 * served without a token; the pages call {@code /api/v1} with the token the user enters, which the
 * token interceptor (registered for {@code /api/**} only) checks as for any client.
 *
 * <p>Caching: every file carries {@code Cache-Control: no-cache} and an ETag made from a hash of its
 * content, and no {@code Last-Modified}. The jar's entries all have the same timestamp
 * ({@code project.build.outputTimestamp}, for reproducible builds), so a date would tell a browser that
 * an upgraded {@code app.js} is the one it already has; the content hash changes exactly when the file
 * does, so an upgrade is picked up on the next load and an unchanged file still gets a 304.
 *
 * <p>Browser hardening ({@link #HARDENING}, on every answer under {@code /ui}): the page holds a pasted token
 * (admin, for overrides) in {@code sessionStorage} and shows agents' text (host names, failure reasons), so
 * a content security policy allows only this origin's own scripts, styles and requests (no inline script or
 * style, no plugins), no page may frame it (the promote and override forms cannot be clickjacked), the
 * browser may not guess a file's type, and no address of the UI leaks to another site as a referrer.
 */
@Configuration
class UiConfig implements WebMvcConfigurer {

    /** Header name to value; docs/qa.md "Web UI" lists them. */
    static final java.util.Map<String, String> HARDENING = java.util.Map.of(
            "Content-Security-Policy", "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
                    + " frame-ancestors 'none'",
            // for browsers without CSP level 2's frame-ancestors
            "X-Frame-Options", "DENY",
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer");

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(new HandlerInterceptor() {
            @Override
            public boolean preHandle(jakarta.servlet.http.HttpServletRequest request,
                                     jakarta.servlet.http.HttpServletResponse response, Object handler) {
                HARDENING.forEach(response::setHeader);
                return true;
            }
        }).addPathPatterns("/ui", "/ui/**");
    }

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        registry.addRedirectViewController("/ui", "/ui/");
        registry.addViewController("/ui/").setViewName("forward:/ui/index.html");
    }

    @Override
    public void addResourceHandlers(ResourceHandlerRegistry registry) {
        registry.addResourceHandler("/ui/**")
                .addResourceLocations("classpath:/static/ui/")
                .setCacheControl(CacheControl.noCache())
                .setUseLastModified(false)
                .setEtagGenerator(UiConfig::contentEtag);
    }

    /**
     * The hex SHA-256 of the file (the files are a few kB, so hashing per request costs less than
     * keeping a cache that would have to notice a changed file when run from {@code target/classes}).
     */
    static String contentEtag(Resource resource) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(resource.getContentAsByteArray());
            return HexFormat.of().formatHex(digest);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + " to hash it for its ETag", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}

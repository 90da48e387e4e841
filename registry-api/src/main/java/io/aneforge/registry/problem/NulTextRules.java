package io.aneforge.registry.problem;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.JacksonModule;
import tools.jackson.databind.deser.jdk.StringDeserializer;
import tools.jackson.databind.module.SimpleModule;

/**
 * Text from a client never holds U+0000. PostgreSQL cannot store it in a text column, so a NUL in any name,
 * reason or report field used to reach the database and come back as a 500, and an agent retries a report
 * on a 5xx until its lease runs out. Refused at the boundary instead, as a 400 that names the field: in JSON
 * bodies by the string deserializer of the application's mapper (the message carries the JSON path), in query
 * parameters by an interceptor.
 */
@Configuration
class NulTextRules implements WebMvcConfigurer {

    static final String NUL_HINT = "text cannot hold the NUL character (U+0000); remove it";

    /** Registered by Spring Boot with the application's {@code JsonMapper}, which reads every request body. */
    @Bean
    JacksonModule noNulStrings() {
        SimpleModule module = new SimpleModule("aneforge-no-nul-strings");
        module.addDeserializer(String.class, new NoNulStrings());
        return module;
    }

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(new HandlerInterceptor() {
            @Override
            public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
                // the raw query string, not getParameterMap(): that would parse (and consume) a form-typed POST body
                String query = request.getQueryString();
                if (query == null || !query.contains("%00")) {
                    return true;
                }
                for (String pair : query.split("&")) {
                    if (pair.contains("%00")) {
                        int eq = pair.indexOf('=');
                        String raw = eq < 0 ? pair : pair.substring(0, eq);
                        String name;
                        try {
                            name = URLDecoder.decode(raw, StandardCharsets.UTF_8);
                        } catch (IllegalArgumentException malformedEscape) {
                            name = raw;
                        }
                        throw ApiProblem.badRequest("invalid-parameter", "Invalid parameter",
                                "query parameter '" + name.replace("\0", "\\u0000") + "': " + NUL_HINT);
                    }
                }
                return true;
            }
        }).addPathPatterns("/api/**");
    }

    /** Jackson's own string reading, then the NUL check. */
    static final class NoNulStrings extends StringDeserializer {
        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) {
            String s = super.deserialize(p, ctxt);
            if (s != null && s.indexOf('\0') >= 0) {
                throw ctxt.weirdStringException(s, String.class, NUL_HINT);
            }
            return s;
        }
    }
}

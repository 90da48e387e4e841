package io.aneforge.registry.negotiation;

import java.lang.reflect.Method;
import org.springframework.boot.webmvc.autoconfigure.WebMvcRegistrations;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.ResponseBody;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * Every endpoint of the registry that declares no {@code produces} produces JSON, and that is part of its
 * mapping: Spring matches the request's {@code Accept} while it picks the handler, so a client that accepts
 * neither JSON nor problem+json gets 406 problem+json ({@code ProblemAdvice}) before the token check and
 * before the handler runs.
 *
 * <p>Without a declared type, Spring negotiated only when it came to write the handler's return value, that is
 * after the handler had run: {@code POST /api/v1/models} with {@code Accept: application/xml} created the model
 * and then answered 406, so the client believed nothing happened and its retry met a conflict. Declaring
 * {@code produces} on each controller would fix that until the next controller forgot it; here a new endpoint
 * gets it without asking. An endpoint that writes another type declares it, and its declaration wins: the
 * matrix ({@code application/json} or {@code text/csv}), blob downloads (any type, the blob's own).
 *
 * <p>Only the registry's own {@code @ResponseBody} handlers ({@code io.aneforge}) are touched: springdoc's
 * OpenAPI document, Spring Boot's error controller, the actuator (its own mapping) and the UI (static
 * resources) keep their types. A browser's {@code Accept} ({@code text/html,...,*}{@code /*;q=0.8}) accepts
 * JSON through its wildcard and gets JSON.
 */
@Component
class JsonByDefault implements WebMvcRegistrations {

    /** What a JSON endpoint writes: its documents, and its errors (asked for by the CLI, for one). */
    static final String[] JSON_TYPES = {MediaType.APPLICATION_JSON_VALUE, MediaType.APPLICATION_PROBLEM_JSON_VALUE};

    private static final String OWN_PACKAGE = "io.aneforge.";

    @Override
    public RequestMappingHandlerMapping getRequestMappingHandlerMapping() {
        return new RequestMappingHandlerMapping() {
            @Override
            protected RequestMappingInfo getMappingForMethod(Method method, Class<?> handlerType) {
                RequestMappingInfo info = super.getMappingForMethod(method, handlerType);
                if (info == null || !info.getProducesCondition().isEmpty() || !writesJson(method, handlerType)) {
                    return info;
                }
                return info.mutate().produces(JSON_TYPES).build();
            }
        };
    }

    /** One of the registry's handlers whose return value a message converter writes. */
    static boolean writesJson(Method method, Class<?> handlerType) {
        return handlerType.getName().startsWith(OWN_PACKAGE)
                && (AnnotatedElementUtils.hasAnnotation(handlerType, ResponseBody.class)
                        || AnnotatedElementUtils.hasAnnotation(method, ResponseBody.class));
    }
}

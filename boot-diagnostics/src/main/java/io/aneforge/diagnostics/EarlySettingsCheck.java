package io.aneforge.diagnostics;

import java.util.LinkedHashSet;
import java.util.Set;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.context.event.ApplicationPreparedEvent;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.type.filter.AnnotationTypeFilter;
import org.springframework.util.ClassUtils;

/**
 * Binds every {@link ConfigurationProperties} class in the application's packages once, before the context is
 * refreshed, so a malformed setting stops the start before Flyway migrates the database (a typo'd value in a
 * rolling update must not migrate the shared schema and then crash-loop) and before Tomcat starts (a failure
 * inside Tomcat's initializer loses its cause and Spring Boot prints no failure report at all). The
 * {@link org.springframework.boot.context.properties.bind.BindException} thrown here ends the start and is
 * reported by {@link SettingsFailureAnalyzer}.
 *
 * <p>The application's packages are those of its primary sources (the {@code @SpringBootApplication} class).
 * The binding is thrown away: Spring binds the same classes again when it creates them. Registered in
 * {@code META-INF/spring.factories}.
 */
public final class EarlySettingsCheck implements ApplicationListener<ApplicationPreparedEvent> {

    @Override
    public void onApplicationEvent(ApplicationPreparedEvent event) {
        Binder binder = Binder.get(event.getApplicationContext().getEnvironment());
        for (Class<?> type : propertiesClasses(event)) {
            ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
            String prefix = annotation.prefix().isEmpty() ? annotation.value() : annotation.prefix();
            binder.bind(prefix, Bindable.of(type));
        }
    }

    private static Set<Class<?>> propertiesClasses(ApplicationPreparedEvent event) {
        Set<String> packages = new LinkedHashSet<>();
        for (Object source : event.getSpringApplication().getAllSources()) {
            if (source instanceof Class<?> type) {
                packages.add(type.getPackageName());
            }
        }
        ClassPathScanningCandidateComponentProvider scanner = new ClassPathScanningCandidateComponentProvider(false);
        scanner.addIncludeFilter(new AnnotationTypeFilter(ConfigurationProperties.class));
        ClassLoader loader = event.getApplicationContext().getClassLoader();
        Set<Class<?>> classes = new LinkedHashSet<>();
        for (String pkg : packages) {
            for (BeanDefinition candidate : scanner.findCandidateComponents(pkg)) {
                classes.add(ClassUtils.resolveClassName(candidate.getBeanClassName(), loader));
            }
        }
        return classes;
    }
}

package io.aneforge.registry.problem;

import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Puts {@link ProblemErrorReportValve} in place of the HTML error report valve on Tomcat's host (Spring Boot
 * adds one, and the host would add its default one if no valve of its configured class were there).
 */
@Configuration
class TomcatProblems {

    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> problemErrorReports() {
        // runs after Spring Boot's own customizer (default order), whose context customizer adds its valve first
        return factory -> factory.addContextCustomizers(context -> {
            if (context.getParent() instanceof StandardHost host) {
                host.setErrorReportValveClass(ProblemErrorReportValve.class.getName());
            }
            Pipeline pipeline = context.getParent().getPipeline();
            for (Valve v : pipeline.getValves()) {
                if (v instanceof ErrorReportValve) pipeline.removeValve(v);
            }
            pipeline.addValve(new ProblemErrorReportValve());
        });
    }
}

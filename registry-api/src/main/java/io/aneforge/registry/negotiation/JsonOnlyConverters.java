package io.aneforge.registry.negotiation;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The API's documents are JSON only. Spring registers a converter for every Jackson data format it finds on
 * the classpath, and this registry carries two it must not speak: XML (the embedded S3 server, s3proxy, needs
 * {@code jackson-dataformat-xml} for the S3 protocol) and YAML (ane-core reads recipes with
 * {@code jackson-dataformat-yaml}). With them, {@code Accept: application/xml} got a 200 in XML, and a browser's
 * {@code Accept} (which lists {@code application/xhtml+xml} before {@code *}{@code /*}) got XML labelled XHTML. The
 * dependencies stay; the converters go, once, for every endpoint: a client that asks only for such a type now
 * gets 406 problem+json naming the types the endpoint writes ({@code ProblemAdvice}).
 *
 * <p>Only converters that write nothing but these formats are dropped: the string, byte-array and resource
 * converters (CSV, blob bytes, the UI, metrics text, springdoc's YAML document, which is a string) stay.
 */
@Configuration
class JsonOnlyConverters implements WebMvcConfigurer {

    private static final Logger log = LoggerFactory.getLogger(JsonOnlyConverters.class);

    @Override
    public void configureMessageConverters(HttpMessageConverters.ServerBuilder builder) {
        builder.configureMessageConvertersList(converters -> {
            List<HttpMessageConverter<?>> dropped = converters.stream().filter(JsonOnlyConverters::otherFormatOnly).toList();
            converters.removeAll(dropped);
            if (!dropped.isEmpty()) {
                log.debug("not serving {}", dropped.stream().map(c -> c.getClass().getSimpleName()).toList());
            }
        });
    }

    /** A converter whose every media type is XML, YAML, CBOR or Smile (and none JSON or text). */
    static boolean otherFormatOnly(HttpMessageConverter<?> converter) {
        List<MediaType> types = converter.getSupportedMediaTypes();
        return !types.isEmpty() && types.stream().allMatch(JsonOnlyConverters::otherFormat);
    }

    static boolean otherFormat(MediaType type) {
        if (type.isWildcardSubtype() && type.getSubtypeSuffix() == null) return false;
        String subtype = type.getSubtype();
        String suffix = type.getSubtypeSuffix();
        String format = suffix != null ? suffix : subtype;
        return switch (format) {
            case "xml", "yaml", "x-yaml", "cbor", "x-jackson-smile" -> true;
            default -> false;
        };
    }
}

package io.aneforge.registry.matrix;

import jakarta.servlet.http.HttpServletRequest;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.ShallowEtagHeaderFilter;

/**
 * A content-hash ETag on {@code GET /api/v1/models/{name}/versions/{version}/matrix} (JSON and CSV), and
 * {@code 304 Not Modified} with no body when {@code If-None-Match} names it. The QA page polls the matrix
 * while it is open, for benchmark and accuracy results that agents report long after a conversion ended;
 * most polls find nothing new, and this keeps them to a few headers on the wire.
 *
 * <p>The hash is taken over the bytes the controller wrote (Spring's shallow ETag, an MD5 of the body), so
 * it changes exactly when the answer does; the matrix is still computed on every request. Only 2xx answers
 * get one: the token check runs inside this filter, so a request without a valid token is a 401, never a 304.
 */
@Component
class MatrixEtags extends ShallowEtagHeaderFilter {

    private static final Pattern MATRIX = Pattern.compile("^/api/v1/models/[^/]+/versions/[^/]+/matrix$");

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String method = request.getMethod();
        return !("GET".equals(method) || "HEAD".equals(method)) || !MATRIX.matcher(request.getRequestURI()).matches();
    }
}

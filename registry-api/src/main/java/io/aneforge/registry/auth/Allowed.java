package io.aneforge.registry.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The roles that may call an endpoint (admin always may). Every {@code /api/v1} handler method must
 * carry it (a guard test checks); a handler without it is refused, never silently opened.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Allowed {

    /** Roles allowed besides admin. */
    Role[] value() default {};

    /** Any valid token, whatever its role. */
    boolean anyRole() default false;

    /**
     * A signed, unexpired download URL ({@code expires} and {@code signature} query parameters, minted by
     * {@code io.aneforge.registry.download.DownloadSigner}) stands in for the token on a request without
     * {@code Authorization}; the path's {@code hex} variable is the blob it must be signed for.
     */
    boolean signedUrl() default false;
}

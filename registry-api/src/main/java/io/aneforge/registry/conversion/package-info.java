/**
 * Conversions: a version published with chips and a recipe queues one conversion (its planned
 * variants are rows of {@code conversion_variant}); converter-workers lease it over REST
 * ({@code FOR UPDATE SKIP LOCKED} underneath), heartbeat, report progress per variant, and complete
 * (which publishes the version) or fail (which fails the version and removes its variants). An
 * expired lease returns the conversion to the queue until {@code max_attempts} leases were used.
 */
package io.aneforge.registry.conversion;

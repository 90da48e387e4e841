/**
 * The registry's naming rules ({@link io.aneforge.names.RegistryNames}), in ane-core because both the registry
 * and the CLI depend on it: the registry enforces them, the CLI checks them before it sends anything.
 */
package io.aneforge.names;

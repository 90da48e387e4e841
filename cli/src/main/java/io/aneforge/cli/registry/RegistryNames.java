package io.aneforge.cli.registry;

import static io.aneforge.names.RegistryNames.ALIAS;
import static io.aneforge.names.RegistryNames.MODEL;
import static io.aneforge.names.RegistryNames.isAlias;
import static io.aneforge.names.RegistryNames.isModel;
import static io.aneforge.names.RegistryNames.isReason;

import io.aneforge.cli.UsageException;

/**
 * The registry's rules for names ({@link io.aneforge.names.RegistryNames}, which the registry enforces), checked
 * before the first request so that a bad name fails as a usage error (exit 2) and leaves nothing behind.
 */
public final class RegistryNames {

    private RegistryNames() {
    }

    public static String model(String name) {
        if (!isModel(name)) {
            throw new UsageException("--model '" + name + "' is not a registry model name: use lower-case letters, digits, "
                    + "'.', '_' and '-', starting with a letter or digit, at most 128 characters (" + MODEL.pattern() + ")");
        }
        return name;
    }

    public static String alias(String name) {
        if (!isAlias(name)) {
            throw new UsageException("--alias '" + name + "' is not a registry alias name: use lower-case letters, digits, "
                    + "'.', '_' and '-', starting with a letter or digit, at most 64 characters (" + ALIAS.pattern() + ")");
        }
        return name;
    }

    public static String reason(String reason) {
        if (!isReason(reason)) {
            throw new UsageException("--reason must not be blank: say why the alias moves, e.g. --reason \"passed eval\"");
        }
        return reason;
    }
}

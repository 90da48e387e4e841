package io.aneforge.cli;

import io.aneforge.cli.registry.RegistryClient;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Which artifact to ask for: the model, the device (or chip), its OS, the alias or version, and optional filters. */
final class ResolveOptions {

    @Option(names = "--model", required = true, paramLabel = "NAME")
    String model;

    @Option(names = "--device", paramLabel = "ID", description = "Device identifier, e.g. iPhone16,1.")
    String device;

    @Option(names = "--chip", paramLabel = "CHIP", description = "Chip id instead of a device, e.g. A17_PRO.")
    String chip;

    @Option(names = "--os", required = true, paramLabel = "X.Y", description = "The device's OS version (macOS in its own numbering for Macs).")
    String os;

    @Option(names = "--alias", paramLabel = "ALIAS", description = "Alias to follow (registry default: production).")
    String alias;

    @Option(names = "--version", paramLabel = "N", description = "A published version instead of an alias.")
    Integer version;

    @Option(names = "--precision", paramLabel = "P", description = "Only variants of this precision: a family "
            + "(fp16, int8, int4, w8a8, fp32; w8a8 is both activation modes) or exactly one precision: a full id such"
            + " as int8-block32 or w8a8-affine, or w8a8-symmetric for symmetric w8a8 alone (the registry checks it).")
    String precision;

    @Option(names = "--layout", paramLabel = "L", description = "Only variants of this layout: ane or standard.")
    String layout;

    String path() {
        io.aneforge.cli.registry.RegistryNames.model(model);
        if (alias != null) {
            io.aneforge.cli.registry.RegistryNames.alias(alias);
        }
        if ((device == null) == (chip == null)) {
            throw new UsageException("pass either --device (e.g. iPhone16,1) or --chip (e.g. A17_PRO)");
        }
        if (alias != null && version != null) {
            throw new UsageException("pass either --alias or --version, not both");
        }
        List<String> q = new ArrayList<>();
        if (device != null) {
            q.add("device=" + RegistryClient.encode(device));
        } else {
            q.add("chip=" + RegistryClient.encode(chip));
        }
        if (os != null) {
            q.add("os=" + RegistryClient.encode(os));
        }
        if (alias != null) {
            q.add("alias=" + RegistryClient.encode(alias));
        }
        if (version != null) {
            q.add("version=" + version);
        }
        if (precision != null) {
            q.add("precision=" + RegistryClient.encode(precision));
        }
        if (layout != null) {
            q.add("layout=" + RegistryClient.encode(layout));
        }
        return "/api/v1/models/" + RegistryClient.encode(model) + "/resolve?" + String.join("&", q);
    }
}

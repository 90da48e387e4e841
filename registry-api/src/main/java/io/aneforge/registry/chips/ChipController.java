package io.aneforge.registry.chips;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.Device;
import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.problem.ApiProblem;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** The chip catalog and device map from ane-core ({@code io/aneforge/chips/*.psv}). */
@RestController
@RequestMapping("/api/v1")
class ChipController {

    record DeviceView(String identifier, String name, String platform, Chip chip, String source) {}

    private final ChipCatalog catalog;

    ChipController(ChipCatalog catalog) {
        this.catalog = catalog;
    }

    @GetMapping("/chips")
    @Allowed(anyRole = true)
    List<Chip> chips() {
        return catalog.chips();
    }

    @GetMapping("/devices")
    @Allowed(anyRole = true)
    List<Device> devices() {
        return catalog.devices();
    }

    @GetMapping("/devices/{identifier}")
    @Allowed(anyRole = true)
    DeviceView device(@PathVariable String identifier) {
        Device d = catalog.device(identifier).orElseThrow(() -> ApiProblem.notFound("unknown-device", "Unknown device identifier",
                "device identifier '" + identifier + "' is not in the device map; GET /api/v1/devices lists the known ones"));
        return new DeviceView(d.identifier(), d.name(), d.platform().name(), catalog.chip(d.chipId()).orElseThrow(), d.source());
    }
}

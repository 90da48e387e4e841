package io.aneforge.registry.conversion;

import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.conversion.ConversionViews.WorkerView;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The converter workers the registry knows from their lease calls. */
@RestController
class WorkerController {

    private final ConverterWorkers workers;

    WorkerController(ConverterWorkers workers) {
        this.workers = workers;
    }

    /**
     * Every converter worker that asked for work in the last 7 days or holds a lease, running ones first: its last
     * lease call, the {@code conversionOptions} it declared and the conversions it holds (any role, like the other
     * listings).
     */
    @GetMapping("/api/v1/workers")
    @Allowed(anyRole = true)
    List<WorkerView> list() {
        return workers.all();
    }
}

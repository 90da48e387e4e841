package io.aneforge.registry.matrix;

import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Allowed;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.matrix.MatrixRecords.Matrix;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
class MatrixController {

    private final Matrices matrices;
    private final ModelGates gates;
    private final Audit audit;

    MatrixController(Matrices matrices, ModelGates gates, Audit audit) {
        this.matrices = matrices;
        this.gates = gates;
        this.audit = audit;
    }

    @GetMapping("/api/v1/models/{name}/gates")
    @Allowed(anyRole = true)
    ModelGates.GatesView gates(@PathVariable String name) {
        return gates.get(name);
    }

    /** Who changed the gates when, from what to what (append-only). */
    @GetMapping("/api/v1/models/{name}/gates/history")
    @Allowed(anyRole = true)
    java.util.List<ModelGates.GatesChange> gatesHistory(@PathVariable String name) {
        return gates.history(name);
    }

    /** Replaces the model's gates; the body is the gates JSON itself (every field optional; loosening needs admin). */
    @PutMapping(value = "/api/v1/models/{name}/gates", consumes = MediaType.APPLICATION_JSON_VALUE)
    @Allowed(Role.PUBLISHER)
    ModelGates.GatesView putGates(@PathVariable String name, @RequestBody(required = false) String body,
                                  HttpServletRequest http) {
        return audit.record(Caller.of(http), () -> gates.put(name, body, Caller.of(http)), put -> Audit.Event.of(
                "gates.put").onModel(name).with("gates", put.gates()));
    }

    @GetMapping(value = "/api/v1/models/{name}/versions/{version}/matrix", produces = MediaType.APPLICATION_JSON_VALUE)
    @Allowed(anyRole = true)
    Matrix matrix(@PathVariable String name, @PathVariable int version, @RequestParam(required = false) Integer baseline) {
        return matrices.matrix(name, version, baseline);
    }

    /** The same table with {@code Accept: text/csv}: one line per variant and compute-units setting. */
    @GetMapping(value = "/api/v1/models/{name}/versions/{version}/matrix", produces = "text/csv")
    @Allowed(anyRole = true)
    ResponseEntity<String> matrixCsv(@PathVariable String name, @PathVariable int version,
                                     @RequestParam(required = false) Integer baseline) {
        String csv = MatrixCsv.render(matrices.matrix(name, version, baseline));
        return ResponseEntity.ok()
                .contentType(new MediaType("text", "csv", java.nio.charset.StandardCharsets.UTF_8))
                .header(HttpHeaders.CONTENT_DISPOSITION, "inline; filename=\"" + name + "-v" + version + "-matrix.csv\"")
                .body(csv);
    }
}

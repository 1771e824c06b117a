package io.urunc.shim.runc;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * What the shim binary's {@code delete} needs to undo a runc container after the daemon died: runc's
 * root and the container id, plus what the factory set up around it. Stored as
 * {@code <stateDir>/runc-tasks/<namespace>/<id>.json}; empty strings mean "none".
 */
public record RuncRecord(
        String id,
        String namespace,
        String runcRoot,
        String bundle,
        boolean systemdCgroup,
        String rootfsMount,
        String runDir) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static Path file(Path stateDir, String namespace, String id) {
        return stateDir.resolve("runc-tasks").resolve(namespace).resolve(id + ".json");
    }

    void save(Path stateDir) throws IOException {
        Path f = file(stateDir, namespace, id);
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static Optional<RuncRecord> load(Path stateDir, String namespace, String id) {
        Path f = file(stateDir, namespace, id);
        if (!Files.exists(f)) return Optional.empty();
        try {
            return Optional.of(JSON.readValue(f.toFile(), RuncRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static void remove(Path stateDir, String namespace, String id) throws IOException {
        Files.deleteIfExists(file(stateDir, namespace, id));
    }
}

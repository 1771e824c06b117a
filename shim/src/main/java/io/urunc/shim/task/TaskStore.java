package io.urunc.shim.task;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/** Task records on disk under {@code <stateDir>/tasks/<namespace>/<id>.json}, written atomically. */
public final class TaskStore {
    private static final Logger LOG = LogManager.getLogger(TaskStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;

    public TaskStore(Path stateDir) {
        this.root = stateDir.resolve("tasks");
    }

    private Path file(String namespace, String id) {
        return root.resolve(namespace).resolve(id + ".json");
    }

    public void save(TaskRecord record) {
        Path f = file(record.namespace(), record.id());
        try {
            Files.createDirectories(f.getParent());
            Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
            JSON.writeValue(tmp.toFile(), record);
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.warn("cannot record task {}: {}", record.id(), e.getMessage());
        }
    }

    public Optional<TaskRecord> load(String namespace, String id) {
        Path f = file(namespace, id);
        if (!Files.exists(f)) return Optional.empty();
        try {
            return Optional.of(JSON.readValue(f.toFile(), TaskRecord.class));
        } catch (IOException e) {
            LOG.warn("unreadable task record {}: {}", f, e.getMessage());
            return Optional.empty();
        }
    }

    public void remove(String namespace, String id) {
        try {
            Files.deleteIfExists(file(namespace, id));
        } catch (IOException e) {
            LOG.warn("cannot remove task record {}: {}", id, e.getMessage());
        }
    }
}

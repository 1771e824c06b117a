package io.urunc.shim.task;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.lang.System.Logger.Level;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;

/**
 * Task records on disk under {@code <stateDir>/tasks/<namespace>/<id>.json}. A write is durable before it
 * counts (file and directory fsync'd, then an atomic rename), and one that fails fails the operation: a task whose
 * record is not on disk could not be cleaned up after a crash. Reading is strict: a record with a field this
 * version does not know, or without one it needs, is refused with the field's name, never half-used.
 */
public final class TaskStore {
    private static final System.Logger LOG = System.getLogger(TaskStore.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final int MAX_RECORD_BYTES = 64 << 10;
    /**
     * Fields added after the first release, with the value that means what an older record meant by leaving them
     * out: a daemon of the older version may still be running its tasks when the new binary's delete cleans them up.
     */
    private static final Map<String, JsonNode> ADDED_SINCE_FIRST_RECORDS =
            Map.of("backends", JsonNodeFactory.instance.arrayNode());

    private final Path root;

    public TaskStore(Path stateDir) {
        this.root = stateDir.resolve("tasks");
    }

    public Path file(String namespace, String id) {
        return root.resolve(namespace).resolve(id + ".json");
    }

    /** Builds the record serializer now (Jackson's first use of a type is costly), without writing anything. */
    public static void prepareWriter() {
        try {
            JSON.writeValueAsBytes(TaskRecord.of("warm-up", "warm-up", "/", "", "/", ""));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public void save(TaskRecord record) throws IOException {
        Path f = file(record.namespace(), record.id());
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer data = ByteBuffer.wrap(JSON.writeValueAsBytes(record));
            while (data.hasRemaining()) out.write(data);
            out.force(true);
        }
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(f.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** The record, or empty if there is none; an {@link InvalidRecordException} if it cannot be trusted. */
    public Optional<TaskRecord> load(String namespace, String id) throws InvalidRecordException {
        Path f = file(namespace, id);
        if (!Files.exists(f)) return Optional.empty();
        try {
            JsonNode tree = JSON.readTree(io.urunc.sys.BoundedRead.readAll(f, MAX_RECORD_BYTES));
            if (tree instanceof ObjectNode fields) ADDED_SINCE_FIRST_RECORDS.forEach(fields::putIfAbsent);
            return Optional.of(JSON.treeToValue(tree, TaskRecord.class));
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidRecordException(f, "unknown field \"" + e.getPropertyName()
                    + "\" (written by another version of the shim?)");
        } catch (MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? "" : e.getPath().getLast().getFieldName();
            throw new InvalidRecordException(f, field == null || field.isEmpty() ? e.getOriginalMessage()
                    : "field \"" + field + "\" is missing or not of the right type");
        } catch (IOException e) {
            throw new InvalidRecordException(f, e.getMessage());
        }
    }

    public void remove(String namespace, String id) {
        try {
            Files.deleteIfExists(file(namespace, id));
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot remove task record {0}: {1}", id, e.getMessage());
        }
    }

    /** A task record that exists but cannot be used. */
    public static final class InvalidRecordException extends IOException {
        public InvalidRecordException(Path file, String problem) {
            super("task record " + file + ": " + problem);
        }
    }
}

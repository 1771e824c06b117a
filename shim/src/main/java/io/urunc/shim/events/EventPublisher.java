package io.urunc.shim.events;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import io.urunc.proto.events.ttrpc.Envelope;
import io.urunc.proto.events.ttrpc.ForwardRequest;
import io.urunc.shim.task.TaskEvents;
import io.urunc.shim.task.Timestamps;
import io.urunc.ttrpc.TtrpcClient;
import io.urunc.ttrpc.TtrpcException;
import java.lang.System.Logger.Level;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Forwards task events to containerd's ttrpc event service ({@code TTRPC_ADDRESS}), one at a time and in
 * the order they were published, so containerd always sees create, start, exit, delete in that order.
 * A failed send is retried (reconnecting) for a while before the event is dropped with a warning.
 */
public final class EventPublisher implements TaskEvents, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EventPublisher.class.getName());
    private static final String SERVICE = "containerd.services.events.ttrpc.v1.Events";
    private static final Duration GIVE_UP_AFTER = Duration.ofSeconds(10);

    private record Pending(String topic, Message event, Instant at) {}

    private final Path address;
    private final String namespace;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread sender;
    private TtrpcClient client;
    private volatile boolean closed;

    public EventPublisher(Path address, String namespace) {
        this.address = address;
        this.namespace = namespace;
        this.sender = Thread.ofVirtual().name("events").start(this::run);
    }

    @Override
    public void publish(String topic, Message event) {
        queue.add(new Pending(topic, event, Instant.now()));
    }

    private void run() {
        try {
            while (!closed || !queue.isEmpty()) {
                Pending p = queue.poll(200, TimeUnit.MILLISECONDS);
                if (p != null) send(p);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (client != null) client.close();
        }
    }

    private void send(Pending p) throws InterruptedException {
        ForwardRequest req = ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                .setTimestamp(Timestamps.of(p.at())).setNamespace(namespace).setTopic(p.topic())
                .setEvent(Any.newBuilder().setTypeUrl(p.event().getDescriptorForType().getFullName())
                        .setValue(p.event().toByteString()))).build();
        long deadline = System.nanoTime() + GIVE_UP_AFTER.toNanos();
        long backoffMs = 50;
        while (true) {
            try {
                if (client == null) client = TtrpcClient.connect(address);
                client.call(SERVICE, "Forward", req, Empty.parser(), Duration.ofSeconds(5),
                        Map.of("containerd-namespace-ttrpc", namespace));
                LOG.log(Level.DEBUG, "event {0} sent", p.topic());
                return;
            } catch (TtrpcException e) {
                LOG.log(Level.WARNING, "event {0} refused by containerd: {1} {2}", p.topic(), e.code(), e.getMessage());
                return;
            } catch (IOException e) {
                if (client != null) client.close();
                client = null;
                if (System.nanoTime() > deadline) {
                    LOG.log(Level.WARNING, "event {0} dropped: cannot reach {1}: {2}", p.topic(), address, e.getMessage());
                    return;
                }
                Thread.sleep(backoffMs);
                backoffMs = Math.min(1000, backoffMs * 2);
            }
        }
    }

    /** Sends what is queued (bounded by the retry window) and stops. */
    @Override
    public void close() {
        closed = true;
        try {
            sender.join(GIVE_UP_AFTER.plusSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.urunc.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.urunc.proto.ttrpc.KeyValue;
import io.urunc.proto.ttrpc.Request;
import io.urunc.proto.ttrpc.Response;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A ttrpc client over one unix-socket connection; calls may be made from any number of threads and are
 * multiplexed on that connection.
 */
public final class TtrpcClient implements AutoCloseable {
    private final EventLoopGroup eventLoop;
    private final Channel channel;
    private final ClientConnectionHandler handler;

    private TtrpcClient(EventLoopGroup eventLoop, Channel channel, ClientConnectionHandler handler) {
        this.eventLoop = eventLoop;
        this.channel = channel;
        this.handler = handler;
    }

    public static TtrpcClient connect(Path socket) throws IOException {
        String path = EpollTransport.checkedSocketPath(socket);
        EventLoopGroup group = EpollTransport.newEventLoop("ttrpc-client");
        ClientConnectionHandler handler = new ClientConnectionHandler();
        try {
            Channel channel = new Bootstrap()
                    .group(group)
                    .channel(EpollDomainSocketChannel.class)
                    .handler(new ChannelInitializer<EpollDomainSocketChannel>() {
                        @Override
                        protected void initChannel(EpollDomainSocketChannel ch) {
                            ch.pipeline().addLast(new FrameDecoder(), FrameEncoder.INSTANCE, handler);
                        }
                    })
                    .connect(new DomainSocketAddress(path))
                    .syncUninterruptibly()
                    .channel();
            return new TtrpcClient(group, channel, handler);
        } catch (Exception e) { // syncUninterruptibly() rethrows checked connect errors undeclared
            EpollTransport.shutdown(group);
            throw new IOException("cannot connect to ttrpc server at " + path + ": " + e, e);
        }
    }

    /**
     * Calls {@code service/method} and waits for the answer.
     *
     * @param timeout sent as the server's deadline and enforced here; null waits forever
     * @param metadata sent as the request's key/value pairs; may be empty
     * @throws TtrpcException the server's error status, or DEADLINE_EXCEEDED when the timeout passed first
     * @throws IOException the connection failed or closed before the answer arrived
     */
    public <Resp extends Message> Resp call(String service, String method, Message request, Parser<Resp> responseParser,
            Duration timeout, Map<String, String> metadata) throws TtrpcException, IOException {
        CompletableFuture<Resp> result = callAsync(service, method, request, responseParser, timeout, metadata);
        try {
            return result.get();
        } catch (InterruptedException e) {
            result.cancel(false);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for " + service + "/" + method);
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case TtrpcException failure -> throw failure;
                case IOException failure -> throw failure;
                default -> throw new IOException(service + "/" + method + " failed: " + e.getCause(), e.getCause());
            }
        }
    }

    /** As {@link #call}; the future fails with a {@link TtrpcException} or an {@link IOException}. */
    public <Resp extends Message> CompletableFuture<Resp> callAsync(String service, String method, Message request,
            Parser<Resp> responseParser, Duration timeout, Map<String, String> metadata) {
        Request.Builder envelope = Request.newBuilder()
                .setService(service)
                .setMethod(method)
                .setPayload(request.toByteString());
        if (timeout != null && !timeout.isZero() && !timeout.isNegative()) {
            envelope.setTimeoutNano(timeout.toNanos());
        } else {
            timeout = null;
        }
        if (metadata != null) {
            metadata.forEach((key, value) -> envelope.addMetadata(KeyValue.newBuilder().setKey(key).setValue(value)));
        }
        return handler.send(envelope.build().toByteArray(), timeout)
                .thenCompose(response -> decode(response, responseParser));
    }

    private static <Resp extends Message> CompletableFuture<Resp> decode(Response response, Parser<Resp> parser) {
        TtrpcException failure = Statuses.failureOf(response);
        if (failure != null) {
            return CompletableFuture.failedFuture(failure);
        }
        try {
            return CompletableFuture.completedFuture(parser.parseFrom(response.getPayload()));
        } catch (InvalidProtocolBufferException e) {
            return CompletableFuture.failedFuture(TtrpcException.internal("undecodable response payload: " + e.getMessage()));
        }
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    /** Closes the connection (pending calls fail with an IOException) and its event loop. Idempotent. */
    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        EpollTransport.shutdown(eventLoop);
    }

    int pendingCalls() {
        return handler.pendingCount();
    }
}

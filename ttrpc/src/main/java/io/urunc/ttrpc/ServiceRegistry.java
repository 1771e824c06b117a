package io.urunc.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.HashMap;
import java.util.Map;

/** The methods a server serves, by service then method name; immutable once built. */
final class ServiceRegistry {

    /** A registered method: decodes its request payload and runs its handler. */
    record Method<Req extends Message, Resp extends Message>(Parser<Req> parser, UnaryHandler<Req, Resp> handler) {
        ByteString invoke(ByteString payload, CallContext context) throws TtrpcException {
            Req request;
            try {
                request = parser.parseFrom(payload);
            } catch (InvalidProtocolBufferException e) {
                throw TtrpcException.invalidArgument("unmarshal " + context.service() + "/" + context.method()
                        + " request: " + e.getMessage());
            }
            Resp response = handler.handle(request, context);
            if (response == null) {
                throw TtrpcException.internal(context.service() + "/" + context.method() + " handler returned null");
            }
            return response.toByteString();
        }
    }

    private final Map<String, Map<String, Method<?, ?>>> services;

    private ServiceRegistry(Map<String, Map<String, Method<?, ?>>> services) {
        this.services = services;
    }

    /** The method, or UNIMPLEMENTED "service X" / "method Y" worded as Go's ttrpc does. */
    Method<?, ?> lookup(String service, String method) throws TtrpcException {
        Map<String, Method<?, ?>> methods = services.get(service);
        if (methods == null) {
            throw TtrpcException.unimplemented("service " + service);
        }
        Method<?, ?> found = methods.get(method);
        if (found == null) {
            throw TtrpcException.unimplemented("method " + method);
        }
        return found;
    }

    static final class Builder {
        private final Map<String, Map<String, Method<?, ?>>> services = new HashMap<>();

        <Req extends Message, Resp extends Message> Builder add(String service, String method, Parser<Req> parser,
                UnaryHandler<Req, Resp> handler) {
            if (service == null || service.isEmpty() || method == null || method.isEmpty()) {
                throw new IllegalArgumentException("service and method names must not be empty");
            }
            if (parser == null || handler == null) {
                throw new IllegalArgumentException("parser and handler of " + service + "/" + method + " must not be null");
            }
            Method<?, ?> previous = services.computeIfAbsent(service, s -> new HashMap<>())
                    .putIfAbsent(method, new Method<>(parser, handler));
            if (previous != null) {
                throw new IllegalStateException(service + "/" + method + " is registered twice");
            }
            return this;
        }

        ServiceRegistry build() {
            Map<String, Map<String, Method<?, ?>>> copy = new HashMap<>();
            services.forEach((service, methods) -> copy.put(service, Map.copyOf(methods)));
            return new ServiceRegistry(Map.copyOf(copy));
        }
    }
}

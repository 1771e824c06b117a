package io.urunc.ttrpc;

import com.google.protobuf.Message;

/**
 * Serves one unary method. Runs on the server's executor (a virtual thread by default), so it may block;
 * it is interrupted when the caller's deadline passes or the connection closes.
 */
@FunctionalInterface
public interface UnaryHandler<Req extends Message, Resp extends Message> {
    Resp handle(Req request, CallContext context) throws TtrpcException;
}

package io.urunc.ttrpc;

/** A frame whose declared length exceeded {@link Frame#MAX_PAYLOAD}: its payload was skipped, not buffered. */
record OversizedFrame(int streamId, int type, long length) {
    String message() {
        return "message length " + length + " exceed maximum message size of " + Frame.MAX_PAYLOAD;
    }
}

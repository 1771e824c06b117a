package io.urunc.shim.task;

import com.google.protobuf.Message;

/** Where task events go (containerd's event service); the topic is one of containerd's /tasks/... topics. */
@FunctionalInterface
public interface TaskEvents {
    void publish(String topic, Message event);
}

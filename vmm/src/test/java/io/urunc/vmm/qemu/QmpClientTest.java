package io.urunc.vmm.qemu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

class QmpClientTest {
    @Test
    void theWarmUpsSampleExchangeReadsAsAGreetingAReplyAndAnEvent() {
        // prepare() checks what it read: a sample the reader split otherwise would fail here, not in a daemon's log
        assertDoesNotThrow(QmpClient::prepare);
    }
}

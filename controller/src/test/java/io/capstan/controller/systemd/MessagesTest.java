package io.capstan.controller.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class MessagesTest {

    @Test
    void readyCarriesMainPidAndStatus() {
        assertEquals(
                "READY=1\nMAINPID=17\nSTATUS=raft candidate, no leader, term 2",
                Messages.ready(17, "raft candidate, no leader, term 2"));
    }

    @Test
    void aStatusNeverSpillsOntoAnotherLine() {
        assertEquals("STATUS=a b c", Messages.status(" a\nb\r\nc\n"));
        assertEquals("STOPPING=1\nSTATUS=stopping", Messages.STOPPING);
        assertEquals("WATCHDOG=1", Messages.WATCHDOG);
    }
}

package io.capstan.controller.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class EndpointTest {

    @Test
    void parsesHostPortAsEtcdctlTakesThem() {
        assertEquals(
                List.of(
                        new Endpoint("127.0.0.1", 2379),
                        new Endpoint("localhost", 22379),
                        new Endpoint("::1", 32379)),
                Endpoint.parseAll(
                        List.of("127.0.0.1:2379", "http://localhost:22379", " [::1]:32379 ")));
        assertEquals("[::1]:32379", new Endpoint("::1", 32379).toString());
        assertEquals("127.0.0.1:2379", new Endpoint("127.0.0.1", 2379).toString());
    }

    @Test
    void refusesWhatIsNotOnePlaintextEndpointEach() {
        assertRefused("'127.0.0.1' is not host:port", "127.0.0.1");
        assertRefused("'127.0.0.1:' is not host:port", "127.0.0.1:");
        assertRefused("the port is not a number", "127.0.0.1:http");
        assertRefused("needs a host and a port in 1..65535", "127.0.0.1:70000");
        assertRefused("put an IPv6 address in brackets", "::1:2379");
        assertRefused("only plaintext endpoints", "https://127.0.0.1:2379");
        assertRefused("is listed twice", "127.0.0.1:2379", "http://127.0.0.1:2379");
    }

    private static void assertRefused(String message, String... entries) {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> Endpoint.parseAll(List.of(entries)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}

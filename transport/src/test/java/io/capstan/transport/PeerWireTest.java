package io.capstan.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.ThrowableProto;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class PeerWireTest {

    @Test
    void ratisExceptionsKeepTheirTypeAndMessageAcrossTheWire() {
        byte[] body =
                PeerWire.encodeError(
                        new CompletionException(new GroupMismatchException("no such group")));

        IOException decoded = PeerWire.decodeError(body, "n1");

        assertInstanceOf(GroupMismatchException.class, decoded);
        assertEquals("no such group", decoded.getMessage());
        assertInstanceOf(
                AlreadyClosedException.class,
                PeerWire.decodeError(
                        PeerWire.encodeError(new AlreadyClosedException("closing")), "n1"));
    }

    @Test
    void otherFailuresArriveAsIoExceptionsNamingTheirOrigin() {
        IOException runtime =
                PeerWire.decodeError(PeerWire.encodeError(new IllegalStateException("bug")), "n1");
        assertSame(IOException.class, runtime.getClass());
        assertEquals(
                "n1 failed the request: java.lang.IllegalStateException: bug",
                runtime.getMessage());

        // A class outside Ratis and the JDK is never loaded, whatever a peer claims.
        byte[] foreign =
                ThrowableProto.newBuilder()
                        .setClassName("com.example.Gadget")
                        .setErrorMessage("x")
                        .build()
                        .toByteArray();
        assertEquals(
                "n1 failed the request: com.example.Gadget: x",
                PeerWire.decodeError(foreign, "n1").getMessage());
    }

    @Test
    void aMalformedErrorBodyIsReportedAsSuch() {
        IOException decoded = PeerWire.decodeError(new byte[] {(byte) 0xff, 0x01}, "n2");

        assertTrue(
                decoded.getMessage().contains("n2 answered with a malformed error body"),
                decoded.getMessage());
    }
}

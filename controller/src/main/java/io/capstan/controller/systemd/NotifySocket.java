package io.capstan.controller.systemd;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Sends notifications, one datagram each, to systemd's notification socket. The JDK has no {@code
 * AF_UNIX} datagram sockets, hence junixsocket.
 *
 * <p>Not thread-safe: one notifier thread owns it. The channel is opened at the first send and
 * kept.
 */
final class NotifySocket implements Closeable {
    private final NotifyAddress address;
    private AFUNIXSocketAddress target;
    private AFUNIXDatagramChannel channel;

    NotifySocket(NotifyAddress address) {
        this.address = address;
    }

    NotifyAddress address() {
        return address;
    }

    /** Sends {@code message} (newline-separated {@code KEY=VALUE} lines) as one datagram. */
    void send(String message) throws IOException {
        if (channel == null) {
            target = address.socketAddress();
            channel = AFUNIXDatagramChannel.open();
        }
        channel.send(ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)), target);
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }
}

package io.capstan.controller.systemd;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * systemd's end of the notification protocol for tests: a real bound {@code AF_UNIX} datagram
 * socket, as systemd binds {@code /run/systemd/notify}. Used from one test thread.
 */
public final class NotifyReceiver implements AutoCloseable {
    private static final int MAX_DATAGRAM = 4096;

    private final AFUNIXDatagramSocket socket;
    private final String notifySocket;
    private final List<String> received = new ArrayList<>();

    private NotifyReceiver(AFUNIXDatagramSocket socket, String notifySocket) {
        this.socket = socket;
        this.notifySocket = notifySocket;
    }

    /** Binds a socket file at {@code path}. */
    public static NotifyReceiver bind(Path path) throws IOException {
        AFUNIXDatagramSocket socket = AFUNIXDatagramSocket.newInstance();
        socket.bind(AFUNIXSocketAddress.of(path));
        return new NotifyReceiver(socket, path.toString());
    }

    /** Binds {@code name} in Linux's abstract namespace. */
    public static NotifyReceiver bindAbstract(String name) throws IOException {
        AFUNIXDatagramSocket socket = AFUNIXDatagramSocket.newInstance();
        socket.bind(AFUNIXSocketAddress.inAbstractNamespace(name));
        return new NotifyReceiver(socket, "@" + name);
    }

    /** The value for {@code NOTIFY_SOCKET}. */
    public String notifySocket() {
        return notifySocket;
    }

    /** The next datagram, waiting at most {@code timeout}; fails the test when none comes. */
    public String next(Duration timeout) throws IOException {
        return receive(timeout)
                .orElseThrow(
                        () ->
                                new AssertionError(
                                        "no notification within "
                                                + timeout
                                                + "; received so far: "
                                                + received));
    }

    /**
     * Datagrams up to and including the first that {@code last} accepts, within {@code timeout}.
     */
    public List<String> until(Predicate<String> last, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> messages = new ArrayList<>();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError(
                        "the awaited notification did not come within "
                                + timeout
                                + "; received: "
                                + messages);
            }
            String message = next(Duration.ofNanos(left));
            messages.add(message);
            if (last.test(message)) {
                return messages;
            }
        }
    }

    /** A datagram already queued, if any, without waiting for one. */
    public Optional<String> poll() throws IOException {
        return receive(Duration.ofMillis(1));
    }

    /** Everything received so far, in order. */
    public List<String> received() {
        return List.copyOf(received);
    }

    private Optional<String> receive(Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
        DatagramPacket packet = new DatagramPacket(new byte[MAX_DATAGRAM], MAX_DATAGRAM);
        try {
            socket.receive(packet);
        } catch (SocketTimeoutException e) {
            return Optional.empty();
        }
        String message =
                new String(
                        packet.getData(),
                        packet.getOffset(),
                        packet.getLength(),
                        StandardCharsets.UTF_8);
        received.add(message);
        return Optional.of(message);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

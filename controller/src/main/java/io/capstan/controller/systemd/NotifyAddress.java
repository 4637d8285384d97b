package io.capstan.controller.systemd;

import java.net.SocketException;
import java.nio.file.Path;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Where {@code NOTIFY_SOCKET} says notifications go: a socket file, or a name in Linux's abstract
 * namespace (written {@code @name}; the {@code @} stands for the leading NUL byte).
 *
 * @param name the path, or the abstract name without its {@code @}
 * @param isAbstract whether {@code name} is in the abstract namespace
 */
record NotifyAddress(String name, boolean isAbstract) {

    /**
     * Parses a non-blank {@code NOTIFY_SOCKET} value.
     *
     * @throws IllegalArgumentException for anything but an absolute path or {@code @name} (such as
     *     systemd's {@code vsock:} addresses, which a JVM cannot reach)
     */
    static NotifyAddress parse(String value) {
        if (value.startsWith("@") && value.length() > 1) {
            return new NotifyAddress(value.substring(1), true);
        }
        if (value.startsWith("/")) {
            return new NotifyAddress(value, false);
        }
        throw new IllegalArgumentException(
                "NOTIFY_SOCKET '"
                        + value
                        + "' is neither an absolute socket path nor an abstract socket name (@name)");
    }

    AFUNIXSocketAddress socketAddress() throws SocketException {
        return isAbstract
                ? AFUNIXSocketAddress.inAbstractNamespace(name)
                : AFUNIXSocketAddress.of(Path.of(name));
    }

    @Override
    public String toString() {
        return isAbstract ? "@" + name : name;
    }
}

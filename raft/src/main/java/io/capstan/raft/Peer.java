package io.capstan.raft;

import java.util.regex.Pattern;

/**
 * One member of the Raft group.
 *
 * @param id stable member id (letters, digits, '.', '_', '-')
 * @param address where the member's peer transport listens, "host:port"
 */
public record Peer(String id, String address) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public Peer {
        if (!isValidId(id)) {
            throw new IllegalArgumentException("peer id must be 1-64 of [A-Za-z0-9._-], got " + id);
        }
        if (address == null) {
            throw new IllegalArgumentException("peer " + id + " has no address");
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException(
                    "peer " + id + " address must be host:port, got " + address);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "peer " + id + " address has a bad port: " + address, e);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("peer " + id + " port must be 1-65535, got " + port);
        }
    }

    /** Whether {@code id} can name a member: 1-64 of [A-Za-z0-9._-]. */
    public static boolean isValidId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    public String host() {
        String host = address.substring(0, address.lastIndexOf(':'));
        return host.startsWith("[") && host.endsWith("]")
                ? host.substring(1, host.length() - 1)
                : host;
    }

    public int port() {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }
}

package io.capstan.raft;

import java.util.regex.Pattern;

/**
 * One member of the Raft group.
 *
 * @param id stable member id, by {@link #isValidId}'s rule
 * @param address where the member's peer transport listens, "host:port"
 */
public record Peer(String id, String address) {
    /** The rule for member ids, worded for error messages. */
    public static final String ID_RULE = "must match [a-z0-9-]+ (1 to 63 characters)";

    // Short and DNS-label-like, so ids fit in file names, metric labels and log lines as they are.
    private static final Pattern ID = Pattern.compile("[a-z0-9-]{1,63}");

    public Peer {
        if (!isValidId(id)) {
            throw new IllegalArgumentException("peer id " + ID_RULE + ", got " + id);
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

    /**
     * Whether {@code id} can name a member: 1 to 63 of {@code [a-z0-9-]}. The one rule for member
     * ids: configuration ({@code capstan.node.id}, peer entries), Raft peer ids and the member
     * names in replicated records all follow it.
     */
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

package io.capstan.controller.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * An etcd v3 gRPC endpoint, {@code host:port} (an IPv6 host in brackets).
 *
 * @param host a name or address, without brackets
 * @param port 1..65535
 */
record Endpoint(String host, int port) {

    /**
     * Parses {@code --endpoints} entries: {@code host:port}, optionally after {@code http://}, as
     * etcdctl accepts them. Each endpoint may appear once.
     *
     * @throws IllegalArgumentException naming the bad entry and the rule it breaks
     */
    static List<Endpoint> parseAll(List<String> entries) {
        List<Endpoint> endpoints = new ArrayList<>();
        for (String entry : entries) {
            Endpoint endpoint = parse(entry);
            if (endpoints.contains(endpoint)) {
                throw new IllegalArgumentException(
                        "'" + entry + "' is listed twice; each endpoint must appear once");
            }
            endpoints.add(endpoint);
        }
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("give at least one endpoint");
        }
        return List.copyOf(endpoints);
    }

    static Endpoint parse(String entry) {
        String address = entry.strip();
        if (address.startsWith("http://")) {
            address = address.substring("http://".length());
        } else if (address.contains("://")) {
            throw new IllegalArgumentException(
                    "'"
                            + entry
                            + "': only plaintext endpoints (host:port or http://host:port)"
                            + " are supported");
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("'" + entry + "' is not host:port");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(
                    "'" + entry + "': put an IPv6 address in brackets, [::1]:2379");
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + entry + "': the port is not a number");
        }
        if (host.isEmpty() || port < 1 || port > 65535) {
            throw new IllegalArgumentException(
                    "'" + entry + "' needs a host and a port in 1..65535");
        }
        return new Endpoint(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}

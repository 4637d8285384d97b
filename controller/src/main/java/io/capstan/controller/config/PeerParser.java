package io.capstan.controller.config;

import io.capstan.raft.Peer;

/**
 * Parses one peer entry, {@code id=host:port}, as written in {@code capstan.raft.peers} and {@code
 * CAPSTAN_PEERS}. An IPv6 host goes in brackets: {@code n1=[fd00::1]:7480}.
 */
final class PeerParser {
    static final String FORM = "must be id=host:port, e.g. n1=10.0.0.1:7480";

    private PeerParser() {}

    /**
     * @throws IllegalArgumentException naming what is wrong and what is allowed
     */
    static PeerEntry parse(String entry) {
        String text = entry.strip();
        int eq = text.indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException(FORM);
        }
        String id = text.substring(0, eq);
        if (!Peer.isValidId(id)) {
            throw new IllegalArgumentException("peer id " + Peer.ID_RULE + "; the entry " + FORM);
        }
        String address = text.substring(eq + 1);
        int colon;
        String host;
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            if (close < 0 || close + 1 >= address.length() || address.charAt(close + 1) != ':') {
                throw new IllegalArgumentException(
                        "an IPv6 peer address must be [address]:port, e.g. n1=[fd00::1]:7480");
            }
            host = address.substring(1, close);
            colon = close + 1;
        } else {
            colon = address.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("missing :port; the entry " + FORM);
            }
            host = address.substring(0, colon);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException(
                        "an IPv6 peer address must be [address]:port, e.g. n1=[fd00::1]:7480");
            }
        }
        if (!Hosts.isValid(host)) {
            throw new IllegalArgumentException(
                    "peer host " + Hosts.ALLOWED + "; the entry " + FORM);
        }
        String port = address.substring(colon + 1);
        if (!port.matches("[0-9]{1,5}")
                || Integer.parseInt(port) < 1
                || Integer.parseInt(port) > 65535) {
            throw new IllegalArgumentException("peer port must be 1..65535; the entry " + FORM);
        }
        return new PeerEntry(id, host, Integer.parseInt(port));
    }
}

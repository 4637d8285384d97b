package io.capstan.controller.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/** Syntax checks on host names and IP literals. Never resolves a name through DNS. */
final class Hosts {
    static final String ALLOWED = "must be a host name or IP address, e.g. 10.0.0.1";

    // Names, IPv4 and bracket-less IPv6 literals (with an optional %zone).
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9_.:%-]{1,253}");

    private Hosts() {}

    static boolean isValid(String host) {
        return HOST.matcher(host).matches() && !host.startsWith("-") && !host.startsWith(".");
    }

    /**
     * True for {@code localhost}, 127.0.0.0/8 and ::1. Only literals count: a name that merely
     * resolves to loopback today is not trusted, since it can resolve elsewhere tomorrow.
     */
    static boolean isLoopback(String host) {
        if (host.toLowerCase(Locale.ROOT).equals("localhost")) {
            return true;
        }
        if (host.indexOf(':') >= 0) {
            try {
                // With a ':' the JDK parses an IPv6 literal and never falls back to DNS.
                return InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return isIpv4Loopback(host);
    }

    private static boolean isIpv4Loopback(String host) {
        String[] octets = host.split("\\.", -1);
        if (octets.length != 4) {
            return false;
        }
        for (String octet : octets) {
            if (!octet.matches("[0-9]{1,3}") || Integer.parseInt(octet) > 255) {
                return false;
            }
        }
        return octets[0].equals("127");
    }
}

package io.capstan.raft;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;

/**
 * Member URLs as etcd writes them ({@code http://host:port}, {@code https://host:port}) and the
 * {@code host:port} addresses Ratis and Capstan's peer list use. Stateless.
 */
final class MemberUrls {
    private static final int MAX_URL_CHARS = 256;

    private MemberUrls() {}

    /**
     * The {@code host:port} of {@code url}.
     *
     * @throws IllegalArgumentException when it is not http(s)://host:port with nothing else
     */
    static String address(String url) {
        if (url == null || url.isEmpty() || url.length() > MAX_URL_CHARS) {
            throw new IllegalArgumentException(
                    "a member URL must be 1-" + MAX_URL_CHARS + " characters, got " + url);
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("bad member URL " + url + ": " + e.getReason(), e);
        }
        boolean web = "http".equals(uri.getScheme()) || "https".equals(uri.getScheme());
        boolean bare =
                uri.getUserInfo() == null
                        && (uri.getPath() == null || uri.getPath().isEmpty())
                        && uri.getQuery() == null
                        && uri.getFragment() == null;
        if (!web || !bare || uri.getHost() == null || uri.getPort() < 1) {
            throw new IllegalArgumentException(
                    "a member URL must be http://host:port or https://host:port, got " + url);
        }
        return uri.getHost() + ":" + uri.getPort();
    }

    /** The URL etcd clients expect for a peer address. */
    static String url(String address) {
        return "http://" + address;
    }

    /** The first URL's address: etcd allows several, Capstan's peer list has one per member. */
    static String firstAddress(List<String> urls) {
        return address(urls.get(0));
    }
}

package io.capstan.controller.admin;

import java.util.regex.Pattern;

/**
 * Member and cluster ids as etcd writes them: unsigned 64-bit numbers in lower-case hex without
 * leading zeros ({@code etcdctl member list} shows the same). Stateless.
 */
final class MemberIds {
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{1,16}");

    private MemberIds() {}

    static String format(long id) {
        return Long.toHexString(id);
    }

    /**
     * @throws AdminError.AdminException 400 when {@code text} is not 1-16 hex digits
     */
    static long parse(String text) {
        if (text == null || !HEX.matcher(text).matches()) {
            throw AdminErrors.badRequest(
                            "a member id is 1-16 hex digits, as `capstan cluster status` shows it; got '"
                                    + text
                                    + "'")
                    .toException();
        }
        return Long.parseUnsignedLong(text, 16);
    }

    static boolean isId(String text) {
        return text != null && HEX.matcher(text).matches();
    }
}

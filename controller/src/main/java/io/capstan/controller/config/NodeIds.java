package io.capstan.controller.config;

import java.util.regex.Pattern;

/** The one rule for member ids, shared by {@code capstan.node.id} and peer entries. */
final class NodeIds {
    static final String ALLOWED = "must match [a-z0-9-]+ (1 to 63 characters)";

    // Short and DNS-label-like, so ids fit in file names, metric labels and log lines as they are.
    private static final Pattern ID = Pattern.compile("[a-z0-9-]{1,63}");

    private NodeIds() {
    }

    static boolean isValid(String id) {
        return ID.matcher(id).matches();
    }
}

package io.capstan.controller.systemd;

/** The notifications Capstan sends, in sd_notify's newline-separated {@code KEY=VALUE} form. */
final class Messages {
    static final String WATCHDOG = "WATCHDOG=1";
    static final String STOPPING = "STOPPING=1\nSTATUS=stopping";

    private Messages() {}

    /** {@code READY=1}, naming this process as the main one, with the first status line. */
    static String ready(long pid, String status) {
        return "READY=1\nMAINPID=" + pid + "\n" + status(status);
    }

    static String status(String line) {
        return "STATUS=" + oneLine(line);
    }

    /** A value must fit on its one line: line breaks would start new (bogus) assignments. */
    static String oneLine(String text) {
        return text.strip().replaceAll("[\\r\\n]+", " ");
    }
}

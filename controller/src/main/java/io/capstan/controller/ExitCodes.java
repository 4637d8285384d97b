package io.capstan.controller;

import io.capstan.controller.config.SettingsException;
import picocli.CommandLine;

/** The process exit codes scripts and systemd rely on, in one place. */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    private ExitCodes() {}

    static int forException(Throwable t) {
        if (t instanceof SettingsException || t instanceof CommandLine.ParameterException) {
            return USAGE;
        }
        return FAILED;
    }
}

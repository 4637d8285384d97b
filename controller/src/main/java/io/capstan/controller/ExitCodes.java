package io.capstan.controller;

import io.capstan.controller.config.SettingsException;
import picocli.CommandLine;

/** The process exit codes scripts and systemd rely on, in one place. */
final class ExitCodes {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private ExitCodes() {
    }

    static int forException(Throwable t) {
        if (t instanceof SettingsException || t instanceof CommandLine.ParameterException) {
            return USAGE;
        }
        return FAILED;
    }
}

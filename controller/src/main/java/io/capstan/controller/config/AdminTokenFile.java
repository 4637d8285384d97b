package io.capstan.controller.config;

import io.capstan.controller.admin.AdminToken;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The admin token, read from {@code capstan.admin.token-file} while the configuration binds, so a
 * missing or bad file stops the daemon before anything starts. Problems name the file and the rule,
 * never the token.
 */
final class AdminTokenFile {
    static final String KEY = "capstan.admin.token-file";
    private static final String RULE =
            "must name a readable file holding the admin token, " + AdminToken.RULE;

    private AdminTokenFile() {}

    /** Reads the token file; on failure reports a problem and returns empty. */
    static Optional<AdminToken> read(ConfigReader r, Path file) {
        try {
            if (Files.isDirectory(file)) {
                return refuse(r, file, "is a directory");
            }
            return Optional.of(AdminToken.of(AdminToken.read(file)));
        } catch (NoSuchFileException e) {
            return refuse(r, file, "no such file");
        } catch (AccessDeniedException e) {
            return refuse(r, file, "is not readable by this process");
        } catch (IOException e) {
            return refuse(r, file, "cannot be read (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            return refuse(r, file, e.getMessage());
        }
    }

    /**
     * Without a token anything that reaches the web port could change the membership or take a
     * backup, so it may be left out only when nothing else can reach the port: bound on loopback.
     */
    static void checkOptional(ConfigReader r, String webHost) {
        if (!Hosts.isLoopback(webHost)) {
            r.problem(
                    KEY,
                    r.valueAt(KEY),
                    "must name the admin token file; only a web layer on loopback may serve"
                            + " the admin endpoints without one (here: capstan.web.host = "
                            + webHost
                            + ")");
        }
    }

    private static Optional<AdminToken> refuse(ConfigReader r, Path file, String what) {
        String where = file.isAbsolute() ? "" : " (" + file.toAbsolutePath().normalize() + ")";
        r.problem(KEY, r.valueAt(KEY), "the file" + where + " " + what + "; " + RULE);
        return Optional.empty();
    }
}

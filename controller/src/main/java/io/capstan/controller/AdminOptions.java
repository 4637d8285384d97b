package io.capstan.controller;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.capstan.controller.admin.AdminToken;
import io.capstan.web.PemFiles;
import io.capstan.web.TlsIdentity;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options every command that talks to the admin API shares, and how they print: human text by
 * default, the API's JSON with {@code --json}; failures as one {@code capstan: ...} line on stderr.
 * Bad options (an endpoint that is not a URL, an unreadable token or CA file) are usage errors,
 * exit code 2. Filled by picocli on the command's thread. With {@code --cert} and {@code --key} the
 * client presents that certificate to endpoints that require client certificates.
 */
final class AdminOptions {
    private static final ObjectWriter PRETTY = new ObjectMapper().writerWithDefaultPrettyPrinter();

    @Option(
            names = "--endpoints",
            split = ",",
            paramLabel = "URL",
            defaultValue = "http://127.0.0.1:7480",
            description =
                    "Members' web URLs, comma separated; a request goes to the first that accepts a"
                            + " connection. Default: ${DEFAULT-VALUE}.")
    List<String> endpoints;

    @Option(
            names = "--token-file",
            paramLabel = "FILE",
            description = "File holding the admin token (the daemon's capstan.admin.token-file).")
    Path tokenFile;

    @Option(
            names = "--cacert",
            paramLabel = "FILE",
            description = "PEM file of the CA certificates to trust for https endpoints.")
    Path cacert;

    @Option(
            names = "--cert",
            paramLabel = "FILE",
            description =
                    "PEM file of the client certificate (then its CAs) for endpoints that require one"
                            + " (capstan.tls.client-ca-file); with --key.")
    Path cert;

    @Option(
            names = "--key",
            paramLabel = "FILE",
            description = "PEM file of the private key of --cert.")
    Path key;

    @Option(names = "--json", description = "Print the API's JSON instead of text.")
    boolean json;

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    /** The client the options describe. */
    AdminClient client() {
        return new AdminClient(endpointUris(), token(), tls());
    }

    List<URI> endpointUris() {
        List<URI> uris = new ArrayList<>();
        for (String text : endpoints) {
            uris.add(endpoint(text.strip()));
        }
        if (uris.isEmpty()) {
            throw usage("--endpoints names no URL");
        }
        return uris;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Prints {@code message} as a failure and returns exit code 1. */
    int failed(String message) {
        spec.commandLine().getErr().println("capstan: " + message);
        return ExitCodes.FAILED;
    }

    /**
     * Reports an answer that is not a success: its JSON on stdout with {@code --json}; exit code 1.
     */
    int refused(AdminClient.Reply reply) {
        if (json && !reply.json().isMissingNode()) {
            printJson(reply.json());
        }
        return failed(reply.describeError());
    }

    /** Sends one request; prints the answer's JSON or, through {@code human}, text; 0 or 1. */
    int exchange(String method, String path, Optional<JsonNode> body, HumanOutput human) {
        try {
            return answered(client().call(method, path, body.map(JsonNode::toString)), human);
        } catch (IOException e) {
            return failed(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed("interrupted");
        }
    }

    /** Prints a success's JSON or, through {@code human}, text (0); reports anything else (1). */
    int answered(AdminClient.Reply reply, HumanOutput human) {
        if (!reply.ok()) {
            return refused(reply);
        }
        if (json) {
            printJson(reply.json());
        } else {
            human.print(reply.json(), out());
        }
        return ExitCodes.OK;
    }

    /** Prints a successful answer for people. */
    @FunctionalInterface
    interface HumanOutput {
        void print(JsonNode answer, PrintWriter out);
    }

    void printJson(Object value) {
        try {
            out().println(PRETTY.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always prints", e);
        }
    }

    void printJson(JsonNode value) {
        printJson((Object) value);
    }

    ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private URI endpoint(String text) {
        try {
            URI uri = new URI(text);
            boolean web = "http".equals(uri.getScheme()) || "https".equals(uri.getScheme());
            boolean bare =
                    (uri.getRawPath() == null
                                    || uri.getRawPath().isEmpty()
                                    || uri.getRawPath().equals("/"))
                            && uri.getRawQuery() == null
                            && uri.getRawFragment() == null
                            && uri.getRawUserInfo() == null;
            if (web && bare && uri.getHost() != null) {
                return new URI(
                        uri.getScheme(), null, uri.getHost(), uri.getPort(), null, null, null);
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw usage("--endpoints: '" + text + "' is not a web URL such as http://127.0.0.1:7480");
    }

    private Optional<String> token() {
        if (tokenFile == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(AdminToken.read(tokenFile));
        } catch (NoSuchFileException e) {
            throw usage("--token-file " + tokenFile + ": no such file");
        } catch (AccessDeniedException e) {
            throw usage("--token-file " + tokenFile + ": permission denied");
        } catch (IOException e) {
            throw usage("--token-file " + tokenFile + " cannot be read: " + e);
        } catch (IllegalArgumentException e) {
            throw usage(
                    "--token-file "
                            + tokenFile
                            + " "
                            + e.getMessage()
                            + "; an admin token is "
                            + AdminToken.RULE);
        }
    }

    private Optional<SSLContext> tls() {
        if (cert != null || key != null) {
            return Optional.of(withClientCertificate());
        }
        if (cacert == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(AdminClient.trusting(cacert));
        } catch (IOException | GeneralSecurityException e) {
            throw usage(
                    "--cacert "
                            + cacert
                            + " is not a readable PEM file of CA certificates: "
                            + e.getMessage());
        }
    }

    private SSLContext withClientCertificate() {
        if (cert == null || key == null) {
            throw usage(cert == null ? "--key needs --cert" : "--cert needs --key");
        }
        List<X509Certificate> chain = pem("--cert", cert, PemFiles::certificates);
        PrivateKey privateKey = pem("--key", key, PemFiles::privateKey);
        List<X509Certificate> trusted =
                cacert == null ? List.of() : pem("--cacert", cacert, PemFiles::certificates);
        try {
            return new TlsIdentity(chain, privateKey).clientContext(trusted);
        } catch (IllegalArgumentException e) {
            throw usage("--cert " + cert + " and --key " + key + ": " + e.getMessage());
        }
    }

    /** A PEM reader of one kind. */
    @FunctionalInterface
    private interface PemReader<T> {
        T read(Path file) throws IOException, GeneralSecurityException;
    }

    private <T> T pem(String option, Path file, PemReader<T> reader) {
        try {
            return reader.read(file);
        } catch (NoSuchFileException e) {
            throw usage(option + " " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw usage(option + " " + file + ": permission denied");
        } catch (IOException | GeneralSecurityException e) {
            throw usage(option + " " + file + ": " + e.getMessage());
        }
    }
}

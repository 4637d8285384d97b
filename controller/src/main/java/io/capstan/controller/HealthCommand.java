package io.capstan.controller;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code capstan health}: asks every endpoint's {@code /health/ready} (not just the first that
 * answers, as {@code etcdctl endpoint health} does) and prints one line each: ready, not ready with
 * the failing checks, or unreachable. Exit codes: 0 when every endpoint is ready, 1 when any is not
 * or cannot be reached, 2 usage.
 */
@Command(name = "health", description = "Check whether each endpoint's member is ready.")
final class HealthCommand implements Callable<Integer> {
    private static final String READY = "/health/ready";

    @Mixin AdminOptions options;

    @Option(
            names = "--check",
            paramLabel = "NAME",
            description =
                    "Only these checks (repeatable): a component (web, transport, raft, api) or leader, applied.")
    List<String> checks = new ArrayList<>();

    @Override
    public Integer call() {
        AdminClient client = options.client();
        String path =
                READY
                        + (checks.isEmpty()
                                ? ""
                                : "?check="
                                        + URLEncoder.encode(
                                                String.join(",", checks), StandardCharsets.UTF_8));
        boolean allReady = true;
        List<Map<String, Object>> results = new ArrayList<>();
        for (URI endpoint : client.endpoints()) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("endpoint", endpoint.toString());
            try {
                AdminClient.Reply reply = client.callAt(endpoint, "GET", path, Optional.empty());
                if (reply.status() != 200 && reply.status() != 503) {
                    allReady = false;
                    result.put("ready", false);
                    result.put("error", reply.describeError());
                    line(endpoint, "error: " + reply.describeError());
                } else {
                    boolean ready = reply.status() == 200;
                    allReady &= ready;
                    result.put("ready", ready);
                    result.put("health", reply.json());
                    line(endpoint, describe(ready, reply.json()));
                }
            } catch (IOException e) {
                allReady = false;
                result.put("ready", false);
                result.put("error", AdminClient.describe(e));
                line(endpoint, "unreachable: " + AdminClient.describe(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return options.failed("interrupted");
            }
            results.add(result);
        }
        if (options.json) {
            options.printJson(results);
        }
        return allReady ? ExitCodes.OK : ExitCodes.FAILED;
    }

    private void line(URI endpoint, String text) {
        if (!options.json) {
            options.out().println(endpoint + ": " + text);
        }
    }

    private static String describe(boolean ready, JsonNode health) {
        List<String> failing = new ArrayList<>();
        health.path("checks")
                .fields()
                .forEachRemaining(
                        check -> {
                            if (!check.getValue().asText().equals("pass")) {
                                failing.add(check.getKey());
                            }
                        });
        JsonNode raft = health.path("raft");
        String about =
                raft.isMissingNode()
                        ? ""
                        : ", "
                                + health.path("node").asText()
                                + " "
                                + raft.path("role").asText()
                                + ", leader "
                                + raft.path("leader").asText("none")
                                + ", term "
                                + raft.path("term").asText();
        return (ready ? "ready" : "not ready (failing: " + String.join(", ", failing) + ")")
                + about;
    }
}

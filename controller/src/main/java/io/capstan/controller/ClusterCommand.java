package io.capstan.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code capstan cluster status|add|remove|promote|transfer}: the cluster's members and leader
 * through a member's admin API. Member ids are hex, as {@code status} shows them. Exit codes: 0
 * done, 1 refused by the cluster or no member reachable, 2 usage.
 */
@Command(
        name = "cluster",
        description = "Show or change the cluster's members and leader.",
        subcommands = {
            ClusterCommand.Status.class,
            ClusterCommand.Add.class,
            ClusterCommand.Remove.class,
            ClusterCommand.Promote.class,
            ClusterCommand.Transfer.class
        })
final class ClusterCommand implements Runnable {
    private static final String CLUSTER = "/v1/cluster";
    private static final String MEMBERS = CLUSTER + "/members/";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /** A member id as the API takes it in a path: 1-16 hex digits, else a usage error. */
    private static String hexId(AdminOptions options, String id) {
        if (!id.matches("[0-9a-fA-F]{1,16}")) {
            throw options.usage(
                    "ID must be a member id of 1-16 hex digits, as `capstan cluster status` shows it;"
                            + " got '"
                            + id
                            + "'");
        }
        return id;
    }

    private static String memberLine(JsonNode member) {
        String name = member.path("name").asText();
        return "member " + member.path("id").asText() + (name.isEmpty() ? "" : " (" + name + ")");
    }

    @Command(name = "status", description = "List the members with their role and Raft state.")
    static final class Status implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Override
        public Integer call() {
            return options.exchange("GET", CLUSTER, Optional.empty(), Status::print);
        }

        private static void print(JsonNode cluster, PrintWriter out) {
            String leaderId = cluster.path("leader_id").asText("");
            String leader = "no leader";
            for (JsonNode member : cluster.path("members")) {
                if (member.path("id").asText().equals(leaderId)) {
                    leader = "leader " + member.path("name").asText() + " (" + leaderId + ")";
                }
            }
            out.println(
                    "cluster "
                            + cluster.path("cluster_id").asText()
                            + ", "
                            + leader
                            + ", as member "
                            + cluster.path("member_id").asText()
                            + " sees it");
            TextTable table =
                    new TextTable(
                            "ID",
                            "NAME",
                            "ROLE",
                            "LEADER",
                            "RAFT",
                            "TERM",
                            "COMMIT",
                            "APPLIED",
                            "LAST CONTACT",
                            "PEER URL",
                            "API URL");
            StringBuilder notes = new StringBuilder();
            for (JsonNode member : cluster.path("members")) {
                boolean started = member.path("started").asBoolean();
                JsonNode raft = member.path("raft");
                String name = started ? member.path("name").asText() : "(not started)";
                String[] numbers;
                if (!started) {
                    numbers = new String[] {"-", "-", "-", "-", "-"};
                } else if (!raft.path("reachable").asBoolean()) {
                    numbers = new String[] {"unreachable", "?", "?", "?", "?"};
                    notes.append(name)
                            .append(": ")
                            .append(raft.path("error").asText())
                            .append('\n');
                } else {
                    JsonNode contact = raft.path("last_contact_ms");
                    numbers =
                            new String[] {
                                raft.path("role").asText(),
                                raft.path("term").asText(),
                                raft.path("commit_index").asText(),
                                raft.path("applied_index").asText(),
                                contact.isNumber() ? contact.asLong() + "ms" : "never"
                            };
                }
                table.row(
                        member.path("id").asText(),
                        name,
                        member.path("role").asText(),
                        member.path("leader").asBoolean() ? "*" : "",
                        numbers[0],
                        numbers[1],
                        numbers[2],
                        numbers[3],
                        numbers[4],
                        member.path("peer_url").asText(""),
                        member.path("api_url").asText(""));
            }
            table.print(out);
            out.print(notes);
        }
    }

    @Command(
            name = "add",
            description =
                    "Add a member, to be started next with"
                            + " capstan.raft.initial-cluster-state = existing; it joins by itself.")
    static final class Add implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Option(
                names = "--peer-url",
                required = true,
                paramLabel = "URL",
                description = "The new member's web URL, e.g. http://10.0.0.4:7480.")
        String peerUrl;

        @Option(
                names = "--learner",
                description =
                        "Add it as a learner: it gets the log but does not vote"
                                + " until promoted.")
        boolean learner;

        @Override
        public Integer call() {
            ObjectNode body =
                    JSON.createObjectNode().put("peer_url", peerUrl).put("learner", learner);
            return options.exchange(
                    "POST",
                    CLUSTER + "/members",
                    Optional.of(body),
                    (answer, out) -> {
                        JsonNode member = answer.path("member");
                        out.println(
                                "added "
                                        + memberLine(member)
                                        + " as a "
                                        + member.path("role").asText()
                                        + ", peer URL "
                                        + member.path("peer_url").asText());
                        out.println(
                                "start it with capstan.raft.initial-cluster-state = existing"
                                        + " (env CAPSTAN_INITIAL_CLUSTER_STATE=existing)");
                    });
        }
    }

    @Command(name = "remove", description = "Remove a member.")
    static final class Remove implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Parameters(paramLabel = "ID", description = "The member's id (hex).")
        String id;

        @Override
        public Integer call() {
            return options.exchange(
                    "DELETE",
                    MEMBERS + hexId(options, id),
                    Optional.empty(),
                    (answer, out) ->
                            out.println(
                                    "removed member "
                                            + answer.path("removed").asText()
                                            + "; "
                                            + answer.path("members").size()
                                            + " members left"));
        }
    }

    @Command(name = "promote", description = "Make a learner that has caught up a voting member.")
    static final class Promote implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Parameters(paramLabel = "ID", description = "The learner's id (hex).")
        String id;

        @Override
        public Integer call() {
            return options.exchange(
                    "POST",
                    MEMBERS + hexId(options, id) + "/promote",
                    Optional.empty(),
                    (answer, out) ->
                            out.println(
                                    "promoted " + memberLine(answer.path("member")) + " to voter"));
        }
    }

    @Command(
            name = "transfer",
            description = "Hand leadership to a voting member and wait until it leads.")
    static final class Transfer implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Parameters(paramLabel = "ID|NAME", description = "The member's id (hex) or name.")
        String member;

        @Override
        public Integer call() {
            Optional<String> body =
                    Optional.of(JSON.createObjectNode().put("member", member).toString());
            AdminOptions.HumanOutput human =
                    (answer, out) -> out.println(memberLine(answer.path("leader")) + " leads");
            try {
                AdminClient client = options.client();
                AdminClient.Reply reply = client.call("POST", CLUSTER + "/leader", body);
                // Only the leader hands leadership over; a member that is not says where it is.
                String leaderUrl = reply.json().path("error").path("leader_url").asText("");
                if (reply.status() == 409
                        && reply.errorCode().equals("not_leader")
                        && leaderUrl.startsWith("http")) {
                    reply = client.callAt(URI.create(leaderUrl), "POST", CLUSTER + "/leader", body);
                }
                return options.answered(reply, human);
            } catch (IOException e) {
                return options.failed(e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return options.failed("interrupted");
            }
        }
    }
}

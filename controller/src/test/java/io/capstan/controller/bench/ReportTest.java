package io.capstan.controller.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The comparison's rows, ratios and Markdown, from results as the bench and the wrk script write
 * them.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReportTest {

    private static Point point(
            String workload,
            int clients,
            double perSecond,
            double p50,
            double p99,
            Long cpuMicros,
            Map<String, Long> errors) {
        long operations = Math.round(perSecond * 10);
        return new Point(
                workload,
                clients,
                Math.min(clients, 16),
                0,
                10,
                operations,
                perSecond,
                new Latency(operations, p50, p50 * 1.5, p99, p99 * 1.2, p99 * 2),
                errors,
                null,
                null,
                cpuMicros);
    }

    private static Results grpc(String label, Point... points) {
        return new Results(
                label,
                "grpc",
                points[0].workload(),
                List.of("127.0.0.1:2379"),
                "leader",
                255,
                3.0,
                new Machine(2, 0.5, "a JVM", 1024, "Linux"),
                List.of(points));
    }

    @Test
    void pairsTheSystemsPointsAndDividesTheCandidateByTheBaseline() {
        Report report =
                new Report(
                        "etcd",
                        "capstan",
                        List.of(
                                grpc(
                                        "capstan",
                                        point("put", 1, 47, 19.8, 98, 970_080L, Map.of()),
                                        point(
                                                "put",
                                                16,
                                                490,
                                                30.7,
                                                64,
                                                null,
                                                Map.of("UNAVAILABLE", 2L))),
                                grpc(
                                        "etcd",
                                        point("put", 16, 4061, 3.7, 9.4, null, Map.of()),
                                        point("put", 1, 1116, 0.85, 1.9, null, Map.of())),
                                grpc(
                                        "etcd",
                                        point(
                                                "range-linearizable",
                                                64,
                                                7893,
                                                7.3,
                                                24,
                                                null,
                                                Map.of())),
                                grpc("other", point("put", 1, 1, 1, 1, null, Map.of()))),
                        List.of());

        List<Report.Row> rows = report.rows();

        assertEquals(
                List.of("put/1", "put/16", "range-linearizable/64"),
                rows.stream().map(r -> r.workload() + "/" + r.clients()).toList());
        assertEquals(47 / 1116.0, rows.get(0).ratio().orElseThrow(), 1e-9);
        assertEquals(Optional.empty(), rows.get(2).ratio(), "no candidate point: no ratio");
        String md = report.markdown("bench-report.png");
        assertTrue(
                md.contains(
                        "| put | grpc | 1 | 1,116 | 47 | 0.04 | 0.85 / 1.90 | 19.8 / 98.0 | - | 2,064 | 0 / 0 |"),
                md);
        assertTrue(
                md.contains(
                        "| put | grpc | 16 | 4,061 | 490 | 0.12 | 3.70 / 9.40 | 30.7 / 64.0 | - | - | 0 / 2 |"),
                md);
        assertTrue(md.contains("| range, linearizable | grpc | 64 | 7,893 | - | - |"), md);
        assertTrue(md.contains("- capstan, put over grpc at 16 clients: UNAVAILABLE=2"), md);
        assertTrue(md.contains("load average (1 min) when each gRPC run began: 0.50 to 0.50"), md);
        assertTrue(
                md.contains("![throughput and p99 latency against clients](bench-report.png)"), md);
        assertFalse(md.contains("other"), "only the two systems compared");

        Point silent = new Point("put", 256, 16, 0, 10, 0, 0, null, Map.of(), null, null, 5_000L);
        String nothing =
                new Report("etcd", "capstan", List.of(grpc("capstan", silent)), List.of())
                        .markdown(null);
        assertTrue(
                nothing.contains(
                        "| put | grpc | 256 | - | 0 | - | - | - | - | - | - / no answer |"),
                nothing);
    }

    @Test
    void readsTheGatewayPointsTheWrkScriptWritesAndListsTheMembers() throws Exception {
        // As scripts/bench/compare-etcd.sh writes them: the Lua script's point with the CPU time
        // put first.
        String gateway =
                "{\"label\":\"etcd\",\"api\":\"gateway\",\"workload\":\"put\",\"valueBytes\":255,"
                        + "\"warmupSeconds\":3,\"points\":[{\"cpuMicros\":28200000,\"workload\":\"put\",\"clients\":64,"
                        + "\"connections\":64,\"watchers\":0,\"seconds\":10.002,\"operations\":59320,"
                        + "\"operationsPerSecond\":5930.8,\"latency\":{\"count\":59320,\"p50\":10.0,\"p90\":15.1,\"p99\":26.0,"
                        + "\"p999\":40.2,\"max\":51.3},\"errors\":{\"status\":3}}]}\n";
        Results etcd = Results.json().readValue(gateway, Results.class);
        Results capstan =
                new Results(
                        "capstan",
                        "gateway",
                        "put",
                        null,
                        null,
                        255,
                        3.0,
                        null,
                        List.of(point("put", 64, 931, 63.7, 174, 19_216_000L, Map.of())));
        SystemFacts etcdFacts =
                new SystemFacts(
                        "etcd", "etcd Version: 3.4.23", 0.35, 0.5, List.of(163840L, 260096L));
        SystemFacts capstanFacts =
                new SystemFacts("capstan", "capstan 0.1.0", 7.3, null, List.of(412672L));

        String md =
                new Report(
                                "etcd",
                                "capstan",
                                List.of(etcd, capstan),
                                List.of(capstanFacts, etcdFacts))
                        .markdown(null);

        assertTrue(
                md.contains(
                        "| put | gateway | 64 | 5,931 | 931 | 0.16 | 10.0 / 26.0 | 63.7 / 174 | 475 | 2,064 | 3 / 0 |"),
                md);
        assertTrue(md.contains("- etcd, put over gateway at 64 clients: status=3"), md);
        int etcdRow =
                md.indexOf("| etcd | etcd Version: 3.4.23 | 0.35 s | 0.50 s | 160 MiB, 254 MiB |");
        int capstanRow = md.indexOf("| capstan | capstan 0.1.0 | 7.30 s | - | 403 MiB |");
        assertTrue(etcdRow > 0 && capstanRow > etcdRow, "the baseline first: " + md);
        assertFalse(md.contains("!["), "no chart, no link");
    }

    @Test
    void jsonRoundTripKeepsEveryFigure() throws Exception {
        Point watch =
                new Point(
                        "watch",
                        16,
                        16,
                        8,
                        10,
                        4000,
                        400,
                        new Latency(4000, 1, 2, 3, 4, 5),
                        Map.of(),
                        32000L,
                        new Latency(32000, 1.5, 2.5, 3.5, 4.5, 5.5),
                        123L);
        Results results = grpc("capstan", watch);

        assertEquals(results, Results.json().readValue(results.toJson(), Results.class));
    }

    @Test
    void theCommandWritesTheReportAndChartOrNamesTheFileItCannotRead(@TempDir Path dir)
            throws Exception {
        Files.writeString(
                dir.resolve("etcd-grpc-put.json"),
                grpc("etcd", point("put", 1, 1116, 0.85, 1.9, null, Map.of())).toJson());
        Files.writeString(
                dir.resolve("capstan-grpc-put.json"),
                grpc("capstan", point("put", 1, 47, 19.8, 98, null, Map.of())).toJson());
        Files.writeString(
                dir.resolve("capstan.system.json"),
                "{\"label\":\"capstan\",\"coldStartSeconds\":7.5}");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine report =
                new CommandLine(new ReportCommand())
                        .setOut(new PrintWriter(out, true))
                        .setErr(new PrintWriter(err, true));

        assertEquals(0, report.execute("--results", dir.toString()), err.toString());
        String md = Files.readString(dir.resolve(ReportCommand.MARKDOWN));
        assertTrue(md.contains("| put | grpc | 1 | 1,116 | 47 | 0.04 |"), md);
        assertTrue(md.contains("| capstan | - | 7.50 s | - | - |"), md);
        assertTrue(
                javax.imageio.ImageIO.read(dir.resolve(ReportCommand.CHART).toFile()).getWidth()
                        > 0);

        Files.writeString(dir.resolve("broken.json"), "{\"points\": [");
        assertEquals(1, report.execute("--results", dir.toString()));
        assertTrue(err.toString().contains("broken.json is not a results file"), err.toString());
        assertEquals(2, report.execute("--results", dir.resolve("missing").toString()));
        assertEquals(2, report.execute("--results", dir.toString(), "--candidate", "etcd"));
    }

    @Test
    void numbersReadAsInTheIssuesTable() {
        assertEquals("1,116", Report.count(1116.4));
        assertEquals("0.85", Report.millis(0.85));
        assertEquals("19.8", Report.millis(19.8));
        assertEquals("219", Report.millis(219.3));
        assertEquals("2,502", Report.millis(2502));
        assertEquals("0.04", Report.ratio(47 / 1116.0));
        assertEquals("3.80", Report.ratio(3.8));
        assertEquals("12.5", Report.ratio(12.5));
        assertEquals("1k", Chart.number(1000));
        assertEquals("0.5", Chart.number(0.5));
        assertEquals("20k", Chart.number(20_000));
    }

    @Test
    void theChartHasARowOfTwoPanelsPerWorkloadAndBothSystemsColours() {
        Report report =
                new Report(
                        "etcd",
                        "capstan",
                        List.of(
                                grpc(
                                        "etcd",
                                        point("put", 1, 1116, 0.85, 1.9, null, Map.of()),
                                        point("put", 16, 4061, 3.7, 9.4, null, Map.of())),
                                grpc(
                                        "capstan",
                                        point("put", 1, 47, 19.8, 98, null, Map.of()),
                                        point("put", 16, 490, 30.7, 64, null, Map.of())),
                                grpc("etcd", point("txn-cas", 1, 500, 1, 2, null, Map.of()))),
                        List.of());

        BufferedImage image = Chart.draw(report.rows(), "etcd", "capstan");

        assertEquals(1400, image.getWidth());
        assertEquals(110 + 2 * 330, image.getHeight());
        assertTrue(hasColour(image, 0x1f77b4), "the baseline's lines");
        assertTrue(hasColour(image, 0xff7f0e), "the candidate's lines");
    }

    private static boolean hasColour(BufferedImage image, int rgb) {
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == rgb) {
                    return true;
                }
            }
        }
        return false;
    }
}

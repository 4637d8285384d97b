package io.capstan.controller.bench;

import io.capstan.controller.ExitCodes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code capstan bench report}: reads the JSON results of benchmark runs of two systems from one
 * directory ({@link Results} in {@code *.json}, {@link SystemFacts} in {@code *.system.json}) and
 * writes {@value #MARKDOWN}, the {@link Report}, and {@value #CHART}, its {@link Chart}. Exit
 * codes: 0 written; 1 a results file could not be read, or holds nothing of either system; 2 usage.
 */
@Command(
        name = "report",
        description =
                "Compare the JSON results of `capstan bench --endpoints --json` runs (and of"
                        + " gateway runs in the same format) of two systems: writes "
                        + ReportCommand.MARKDOWN
                        + " and "
                        + ReportCommand.CHART
                        + ".")
public final class ReportCommand implements Callable<Integer> {
    static final String MARKDOWN = "bench-report.md";
    static final String CHART = "bench-report.png";
    private static final String SYSTEM_SUFFIX = ".system.json";

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "Show this help and exit.")
    boolean help;

    @Option(
            names = "--results",
            paramLabel = "DIR",
            required = true,
            description =
                    "Directory of the results: *.json from the runs, *"
                            + SYSTEM_SUFFIX
                            + " about each system.")
    Path results;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description =
                    "Existing directory to write the report and chart into; default: the results directory.")
    Path out;

    @Option(
            names = "--baseline",
            paramLabel = "LABEL",
            defaultValue = "etcd",
            description = "The system ratios divide by; default: ${DEFAULT-VALUE}.")
    String baseline;

    @Option(
            names = "--candidate",
            paramLabel = "LABEL",
            defaultValue = "capstan",
            description = "The system compared with it; default: ${DEFAULT-VALUE}.")
    String candidate;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.isDirectory(results)) {
            throw new ParameterException(
                    spec.commandLine(), "--results: " + results + " is not an existing directory");
        }
        Path target = out == null ? results : out;
        if (!Files.isDirectory(target)) {
            throw new ParameterException(
                    spec.commandLine(), "--out: " + target + " is not an existing directory");
        }
        if (baseline.equals(candidate)) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--candidate: must differ from --baseline (" + baseline + ")");
        }
        PrintWriter err = spec.commandLine().getErr();
        List<Results> runs = new ArrayList<>();
        List<SystemFacts> systems = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> listing = Files.list(results)) {
            files =
                    listing.filter(f -> f.getFileName().toString().endsWith(".json"))
                            .sorted()
                            .toList();
        } catch (IOException e) {
            err.println("capstan bench report: cannot list " + results + ": " + e.getMessage());
            return ExitCodes.FAILED;
        }
        for (Path file : files) {
            try {
                if (file.getFileName().toString().endsWith(SYSTEM_SUFFIX)) {
                    systems.add(SystemFacts.read(file));
                } else {
                    runs.add(Results.read(file));
                }
            } catch (IOException | RuntimeException e) {
                err.println(
                        "capstan bench report: "
                                + file
                                + " is not a results file: "
                                + e.getMessage());
                return ExitCodes.FAILED;
            }
        }
        Report report = new Report(baseline, candidate, runs, systems);
        List<Report.Row> rows = report.rows();
        if (rows.isEmpty()) {
            err.println(
                    "capstan bench report: "
                            + results
                            + " holds no results labelled "
                            + baseline
                            + " or "
                            + candidate);
            return ExitCodes.FAILED;
        }
        Path markdown = target.resolve(MARKDOWN);
        Path chart = target.resolve(CHART);
        try {
            Files.writeString(markdown, report.markdown(CHART), StandardCharsets.UTF_8);
            if (!ImageIO.write(Chart.draw(rows, baseline, candidate), "png", chart.toFile())) {
                throw new IOException("no PNG writer in this JVM");
            }
        } catch (IOException e) {
            err.println(
                    "capstan bench report: cannot write the report into "
                            + target
                            + ": "
                            + e.getMessage());
            return ExitCodes.FAILED;
        }
        PrintWriter printed = spec.commandLine().getOut();
        printed.println("wrote " + markdown + " and " + chart);
        printed.flush();
        return ExitCodes.OK;
    }
}

package io.capstan.controller.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * The report's chart, drawn with Java2D: for each workload a row of two panels, throughput and p99
 * latency against clients, with a line per system and API (the baseline blue, the candidate orange;
 * gRPC solid, the JSON gateway dashed). Both axes are logarithmic, so a factor between the systems
 * is the same distance wherever it is. Pure apart from drawing into a new image.
 */
final class Chart {
    private static final int WIDTH = 1400;
    private static final int HEADER = 110;
    private static final int PANEL_HEIGHT = 330;
    private static final int MARGIN_LEFT = 90;
    private static final int MARGIN_RIGHT = 30;
    private static final int GAP = 110;
    private static final int PLOT_TOP = 40;
    private static final int PLOT_BOTTOM = 60;
    private static final Color BASELINE = new Color(0x1f, 0x77, 0xb4);
    private static final Color CANDIDATE = new Color(0xff, 0x7f, 0x0e);
    private static final Color GRID = new Color(0xdd, 0xdd, 0xdd);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 24);
    private static final Font PANEL_TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 15);

    /** One line of a panel: a system over one API. */
    private record Series(String system, String api, boolean baseline) {
        String name() {
            return system + " " + (api.equals("grpc") ? "gRPC" : api);
        }
    }

    private Chart() {}

    /** The chart of {@code rows}, as {@link Report#rows} orders them. */
    static BufferedImage draw(List<Report.Row> rows, String baseline, String candidate) {
        Map<String, List<Report.Row>> byWorkload = new LinkedHashMap<>();
        for (Report.Row row : rows) {
            byWorkload.computeIfAbsent(row.workload(), k -> new ArrayList<>()).add(row);
        }
        List<String> workloads =
                byWorkload.keySet().stream()
                        .sorted(Comparator.comparingInt(Workload::rankOf))
                        .toList();
        int height = HEADER + Math.max(1, workloads.size()) * PANEL_HEIGHT;
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(
                    RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(TITLE);
            g.drawString(
                    candidate + " and " + baseline + ": throughput and p99 latency against clients",
                    MARGIN_LEFT,
                    40);
            List<Series> series = series(rows, baseline, candidate);
            legend(g, series, MARGIN_LEFT, 80);
            int panelWidth = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT - GAP) / 2;
            for (int i = 0; i < workloads.size(); i++) {
                List<Report.Row> panelRows = byWorkload.get(workloads.get(i));
                int top = HEADER + i * PANEL_HEIGHT;
                String title = Workload.titleOf(workloads.get(i));
                panel(
                        g,
                        title + ": operations/s",
                        panelRows,
                        series,
                        p -> p.operationsPerSecond(),
                        MARGIN_LEFT,
                        top,
                        panelWidth);
                panel(
                        g,
                        title + ": p99 latency, ms",
                        panelRows,
                        series,
                        p ->
                                p.latency() == null || p.operations() == 0
                                        ? Double.NaN
                                        : p.latency().p99(),
                        MARGIN_LEFT + panelWidth + GAP,
                        top,
                        panelWidth);
            }
        } finally {
            g.dispose();
        }
        return image;
    }

    private static List<Series> series(List<Report.Row> rows, String baseline, String candidate) {
        // Rows come gRPC first, as the legend should.
        LinkedHashSet<String> apis = new LinkedHashSet<>();
        rows.forEach(r -> apis.add(r.api()));
        List<Series> series = new ArrayList<>();
        for (String api : apis) {
            series.add(new Series(baseline, api, true));
            series.add(new Series(candidate, api, false));
        }
        return series;
    }

    private static void legend(Graphics2D g, List<Series> series, int x, int y) {
        g.setFont(LABEL);
        int at = x;
        for (Series s : series) {
            style(g, s);
            g.drawLine(at, y - 5, at + 40, y - 5);
            g.fillOval(at + 16, y - 9, 8, 8);
            g.setStroke(new BasicStroke(1));
            g.setColor(Color.BLACK);
            g.drawString(s.name(), at + 48, y);
            at += 48 + g.getFontMetrics().stringWidth(s.name()) + 40;
        }
    }

    private static void panel(
            Graphics2D g,
            String title,
            List<Report.Row> rows,
            List<Series> series,
            ToDoubleFunction<Point> value,
            int left,
            int top,
            int width) {
        int plotTop = top + PLOT_TOP;
        int plotHeight = PANEL_HEIGHT - PLOT_TOP - PLOT_BOTTOM;
        g.setColor(Color.BLACK);
        g.setFont(PANEL_TITLE);
        g.drawString(title, left, top + 24);

        TreeSet<Integer> clients = new TreeSet<>();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Report.Row row : rows) {
            for (Series s : series) {
                double v = valueOf(row, s, value);
                if (v > 0) {
                    clients.add(row.clients());
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        g.setColor(Color.GRAY);
        g.drawRect(left, plotTop, width, plotHeight);
        if (clients.isEmpty()) {
            g.setFont(LABEL);
            g.drawString("no data", left + width / 2 - 25, plotTop + plotHeight / 2);
            return;
        }
        Axis x =
                new Axis(
                        Math.log(clients.first()),
                        Math.log(clients.last()),
                        left + 30,
                        left + width - 30);
        double lowDecade = Math.floor(Math.log10(min / 1.2));
        double highDecade = Math.ceil(Math.log10(max * 1.2));
        if (highDecade - lowDecade < 1) {
            highDecade = lowDecade + 1;
        }
        Axis y =
                new Axis(
                        lowDecade * Math.log(10),
                        highDecade * Math.log(10),
                        plotTop + plotHeight,
                        plotTop);

        g.setFont(LABEL);
        FontMetrics metrics = g.getFontMetrics();
        for (double decade = lowDecade; decade <= highDecade; decade++) {
            for (int step : new int[] {1, 2, 5}) {
                double v = step * Math.pow(10, decade);
                if (Math.log(v) > y.high + 1e-9) {
                    continue;
                }
                int py = (int) Math.round(y.at(Math.log(v)));
                g.setColor(GRID);
                g.drawLine(left, py, left + width, py);
                String label = number(v);
                g.setColor(Color.DARK_GRAY);
                g.drawString(
                        label,
                        left - 8 - metrics.stringWidth(label),
                        py + metrics.getAscent() / 2 - 2);
            }
        }
        for (int c : clients) {
            int px = (int) Math.round(x.at(Math.log(c)));
            g.setColor(GRID);
            g.drawLine(px, plotTop, px, plotTop + plotHeight);
            String label = Integer.toString(c);
            g.setColor(Color.DARK_GRAY);
            g.drawString(label, px - metrics.stringWidth(label) / 2, plotTop + plotHeight + 20);
        }
        g.drawString(
                "clients",
                left + width / 2 - metrics.stringWidth("clients") / 2,
                plotTop + plotHeight + 42);

        for (Series s : series) {
            Path2D.Double line = new Path2D.Double();
            List<double[]> marks = new ArrayList<>();
            for (Report.Row row : rows) {
                double v = valueOf(row, s, value);
                if (!(v > 0)) {
                    continue;
                }
                double px = x.at(Math.log(row.clients()));
                double py = y.at(Math.log(v));
                if (marks.isEmpty()) {
                    line.moveTo(px, py);
                } else {
                    line.lineTo(px, py);
                }
                marks.add(new double[] {px, py});
            }
            style(g, s);
            g.draw(line);
            for (double[] m : marks) {
                g.fillOval((int) Math.round(m[0]) - 5, (int) Math.round(m[1]) - 5, 10, 10);
            }
        }
        g.setStroke(new BasicStroke(1));
    }

    private static double valueOf(Report.Row row, Series s, ToDoubleFunction<Point> value) {
        if (!row.api().equals(s.api())) {
            return Double.NaN;
        }
        Point p = s.baseline() ? row.baseline() : row.candidate();
        return p == null ? Double.NaN : value.applyAsDouble(p);
    }

    private static void style(Graphics2D g, Series s) {
        g.setColor(s.baseline() ? BASELINE : CANDIDATE);
        Stroke stroke =
                s.api().equals("grpc")
                        ? new BasicStroke(3f)
                        : new BasicStroke(
                                3f,
                                BasicStroke.CAP_BUTT,
                                BasicStroke.JOIN_MITER,
                                10f,
                                new float[] {10f, 7f},
                                0f);
        g.setStroke(stroke);
    }

    /** A tick label: 0.5, 2, 50, 1k, 20k, 1M. */
    static String number(double v) {
        if (v >= 1e6) {
            return trim(v / 1e6) + "M";
        }
        if (v >= 1e3) {
            return trim(v / 1e3) + "k";
        }
        return trim(v);
    }

    private static String trim(double v) {
        String text = String.format(Locale.ROOT, "%.3f", v);
        return text.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    /**
     * A linear map from a range of values to a range of pixels; a value range of one point maps to
     * its middle.
     */
    private record Axis(double low, double high, double from, double to) {
        double at(double value) {
            if (high - low < 1e-12) {
                return (from + to) / 2;
            }
            return from + (value - low) / (high - low) * (to - from);
        }
    }
}

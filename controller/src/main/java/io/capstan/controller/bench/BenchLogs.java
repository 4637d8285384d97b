package io.capstan.controller.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Keeps a benchmark's output readable: while one is open, log events below WARN are dropped unless
 * they come from the benchmark's own classes, so three members' start-up and shutdown chatter does
 * not bury the progress lines. Warnings and errors always pass.
 *
 * <p>Opened and closed by the thread that runs the benchmark; closing removes the filter again,
 * leaving the logging configuration as it was.
 */
final class BenchLogs implements AutoCloseable {
    private static final String OWN_LOGGERS = BenchLogs.class.getPackageName() + ".Bench";

    private final Runnable restore;

    private BenchLogs(Runnable restore) {
        this.restore = restore;
    }

    /** Starts filtering; with a logging backend other than logback it changes nothing. */
    static BenchLogs quietMembers() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return new BenchLogs(() -> {});
        }
        TurboFilter filter =
                new TurboFilter() {
                    @Override
                    public FilterReply decide(
                            Marker marker,
                            ch.qos.logback.classic.Logger logger,
                            Level level,
                            String format,
                            Object[] params,
                            Throwable t) {
                        return level.isGreaterOrEqual(Level.WARN)
                                        || logger.getName().startsWith(OWN_LOGGERS)
                                ? FilterReply.NEUTRAL
                                : FilterReply.DENY;
                    }
                };
        filter.setName("capstan-bench-quiet-members");
        filter.start();
        context.addTurboFilter(filter);
        return new BenchLogs(
                () -> {
                    context.getTurboFilterList().remove(filter);
                    filter.stop();
                });
    }

    @Override
    public void close() {
        restore.run();
    }
}

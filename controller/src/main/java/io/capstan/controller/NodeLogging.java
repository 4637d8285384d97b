package io.capstan.controller;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.capstan.controller.config.LogSettings;
import java.util.Locale;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Puts the node id on every log line, from every thread (a logback context property), routes
 * java.util.logging (gRPC's) into the same log, and switches the log format once the configuration
 * is bound (see {@link LogFormatSwitch}).
 */
final class NodeLogging {
    /**
     * The logback context property that holds the node id: {@code %property{node}}, JSON field
     * {@code node}.
     */
    static final String NODE_ID = "node";

    private NodeLogging() {}

    /** Sends java.util.logging records to SLF4J instead of JUL's own console handler. */
    static void routeJavaUtilLogging() {
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
    }

    static void setNodeId(String nodeId) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.putProperty(NODE_ID, nodeId);
        }
    }

    /**
     * Writes every following line in {@code format}. Changes nothing when the logging configuration
     * has no {@link LogFormatSwitch} on the root logger (an operator's own {@code
     * logback.configurationFile}).
     */
    static void useFormat(LogSettings.Format format) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.getLogger(Logger.ROOT_LOGGER_NAME)
                    .iteratorForAppenders()
                    .forEachRemaining(
                            appender -> {
                                if (appender instanceof LogFormatSwitch formats) {
                                    formats.setFormat(format.name().toLowerCase(Locale.ROOT));
                                }
                            });
        }
    }
}

package io.capstan.controller;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Puts the node id on every log line, from every thread (a logback context property), and
 * routes java.util.logging (gRPC's) into the same log.
 */
final class NodeLogging {
    static final String NODE_ID = "nodeId";

    private NodeLogging() {
    }

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
}

package io.capstan.controller;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/** Puts the node id on every log line, from every thread (a logback context property). */
final class NodeLogging {
    static final String NODE_ID = "nodeId";

    private NodeLogging() {
    }

    static void setNodeId(String nodeId) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.putProperty(NODE_ID, nodeId);
        }
    }
}

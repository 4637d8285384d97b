package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.controller.config.LogSettings;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/** The log format switch, and the shipped {@code logback.xml}'s JSON lines. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LogFormatSwitchTest {

    private static ListAppender<ILoggingEvent> named(LoggerContext context, String name) {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.setContext(context);
        appender.setName(name);
        appender.start();
        return appender;
    }

    private static LoggingEvent event(LoggerContext context, String message) {
        return new LoggingEvent(
                Logger.class.getName(), context.getLogger("test"), Level.INFO, message, null, null);
    }

    @Test
    void eventsGoToTheAppenderOfTheCurrentFormat() {
        LoggerContext context = new LoggerContext();
        ListAppender<ILoggingEvent> text = named(context, "TEXT");
        ListAppender<ILoggingEvent> json = named(context, "JSON");
        LogFormatSwitch formats = new LogFormatSwitch();
        formats.setContext(context);
        formats.addAppender(text);
        formats.addAppender(json);
        formats.start();

        formats.doAppend(event(context, "first"));
        formats.setFormat("json");
        formats.doAppend(event(context, "second"));
        formats.setFormat("yaml");
        formats.doAppend(event(context, "third"));

        assertEquals(1, text.list.size());
        assertEquals("first", text.list.get(0).getMessage());
        assertEquals(2, json.list.size(), "an unknown format changes nothing");
        assertEquals("json", formats.getFormat());
    }

    @Test
    void theShippedJsonFormatWritesFlatFieldsWithNodeRequestIdAndException() throws Exception {
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(LogFormatSwitchTest.class.getResource("/logback.xml"));
        context.putProperty(NodeLogging.NODE_ID, "n7");
        LogFormatSwitch formats =
                (LogFormatSwitch) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE");
        assertTrue(formats.isStarted());
        assertEquals("text", formats.getFormat(), "text unless CAPSTAN_LOG_FORMAT says otherwise");

        @SuppressWarnings("unchecked")
        OutputStreamAppender<ILoggingEvent> jsonAppender =
                (OutputStreamAppender<ILoggingEvent>) formats.getAppender("JSON");
        LoggingEvent failure =
                new LoggingEvent(
                        Logger.class.getName(),
                        context.getLogger("io.capstan.Example"),
                        Level.ERROR,
                        "could not {}",
                        new IllegalStateException("boom"),
                        new Object[] {"apply"});
        failure.setMDCPropertyMap(Map.of("requestId", "req-7"));
        String line = new String(jsonAppender.getEncoder().encode(failure), StandardCharsets.UTF_8);

        assertTrue(
                line.endsWith("\n") && line.indexOf('\n') == line.length() - 1,
                "one line: " + line);
        JsonNode json = new ObjectMapper().readTree(line);
        assertEquals("ERROR", json.get("level").asText());
        assertEquals("io.capstan.Example", json.get("logger").asText());
        assertEquals(Thread.currentThread().getName(), json.get("thread").asText());
        assertEquals("n7", json.get("node").asText());
        assertEquals("req-7", json.get("request_id").asText());
        assertEquals("could not apply", json.get("message").asText());
        assertTrue(
                json.get("exception").asText().startsWith("java.lang.IllegalStateException: boom"),
                line);
        assertTrue(json.hasNonNull("time"));
        assertFalse(json.has("@version") || json.has("level_value") || json.has("requestId"), line);
        context.stop();
    }

    @Test
    void useFormatSwitchesTheDaemonsLogging() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> text = named(context, "TEXT");
        ListAppender<ILoggingEvent> json = named(context, "JSON");
        LogFormatSwitch formats = new LogFormatSwitch();
        formats.setContext(context);
        formats.setName("formats-under-test");
        formats.addAppender(text);
        formats.addAppender(json);
        formats.start();
        root.addAppender(formats);
        try {
            NodeLogging.useFormat(LogSettings.Format.JSON);
            LoggerFactory.getLogger("switched").info("now in json");
            NodeLogging.useFormat(LogSettings.Format.TEXT);
            LoggerFactory.getLogger("switched").info("back to text");
        } finally {
            root.detachAppender(formats);
        }
        assertEquals("now in json", json.list.get(json.list.size() - 1).getMessage());
        assertEquals("back to text", text.list.get(text.list.size() - 1).getMessage());
    }
}

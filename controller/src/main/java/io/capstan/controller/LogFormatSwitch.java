package io.capstan.controller;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.AppenderAttachableImpl;
import java.util.Iterator;
import java.util.Locale;

/**
 * A logback appender that passes every event to one of its attached appenders, the one named like
 * the current format ({@code text} → the appender named {@code TEXT}, {@code json} → {@code JSON}),
 * so the daemon can change its log format once its configuration is bound, after logback was
 * configured. {@code logback.xml} declares it with both appenders attached and the first format
 * from {@code CAPSTAN_LOG_FORMAT}; {@link NodeLogging#useFormat} switches it.
 *
 * <p>Threads: logback configures it on one thread before any event; events arrive on every thread
 * and read the selected appender from a volatile field, which {@link #setFormat} replaces.
 */
public final class LogFormatSwitch extends UnsynchronizedAppenderBase<ILoggingEvent>
        implements AppenderAttachable<ILoggingEvent> {

    private final AppenderAttachableImpl<ILoggingEvent> appenders = new AppenderAttachableImpl<>();
    private volatile String format = "text";
    private volatile Appender<ILoggingEvent> selected;

    /**
     * The format's name, {@code text} or {@code json}; an unknown one leaves the format as it was.
     */
    public void setFormat(String format) {
        String name = format == null ? "" : format.trim().toLowerCase(Locale.ROOT);
        if (!name.equals("text") && !name.equals("json")) {
            addError("unknown log format '" + format + "'; allowed: text, json");
            return;
        }
        this.format = name;
        selected = appenders.getAppender(name.toUpperCase(Locale.ROOT));
    }

    public String getFormat() {
        return format;
    }

    @Override
    public void start() {
        selected = appenders.getAppender(format.toUpperCase(Locale.ROOT));
        if (selected == null) {
            addError(
                    "no appender named "
                            + format.toUpperCase(Locale.ROOT)
                            + " is attached to "
                            + getName());
            return;
        }
        super.start();
    }

    @Override
    public void stop() {
        super.stop();
        appenders.detachAndStopAllAppenders();
    }

    @Override
    protected void append(ILoggingEvent event) {
        Appender<ILoggingEvent> target = selected;
        if (target != null) {
            target.doAppend(event);
        }
    }

    @Override
    public void addAppender(Appender<ILoggingEvent> appender) {
        appenders.addAppender(appender);
    }

    @Override
    public Iterator<Appender<ILoggingEvent>> iteratorForAppenders() {
        return appenders.iteratorForAppenders();
    }

    @Override
    public Appender<ILoggingEvent> getAppender(String name) {
        return appenders.getAppender(name);
    }

    @Override
    public boolean isAttached(Appender<ILoggingEvent> appender) {
        return appenders.isAttached(appender);
    }

    @Override
    public void detachAndStopAllAppenders() {
        appenders.detachAndStopAllAppenders();
    }

    @Override
    public boolean detachAppender(Appender<ILoggingEvent> appender) {
        return appenders.detachAppender(appender);
    }

    @Override
    public boolean detachAppender(String name) {
        return appenders.detachAppender(name);
    }
}

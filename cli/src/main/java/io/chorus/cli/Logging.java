package io.chorus.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One-line log records on stderr: time, level, logger's short name, message. */
final class Logging {
    private Logging() {}

    static void setup() {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        ConsoleHandler h = new ConsoleHandler();
        h.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String name = r.getLoggerName() == null ? "" : r.getLoggerName().substring(r.getLoggerName().lastIndexOf('.') + 1);
                String msg = formatMessage(r);
                if (r.getThrown() != null && System.getenv("CHORUS_DEBUG") != null) msg += " " + r.getThrown();
                return String.format("%1$tT %2$s %3$s: %4$s%n", r.getMillis(), r.getLevel().getName(), name, msg);
            }
        });
        h.setLevel(Level.INFO);
        root.addHandler(h);
        root.setLevel(Level.INFO);
    }
}

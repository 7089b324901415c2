package io.chorus.tokenizer.template;

/**
 * A chat template failed to compile or render. {@link #raisedByTemplate()} is true when the
 * template itself called {@code raise_exception(msg)}: that message describes a problem with the
 * request (for example an unsupported role order) and is meant to be shown to the client.
 */
public final class TemplateException extends RuntimeException {
    private final int line;
    private final boolean raisedByTemplate;
    private final String rawMessage;

    public TemplateException(String message, int line) {
        this(message, line, false);
    }

    public TemplateException(String message, int line, boolean raisedByTemplate) {
        super(line > 0 ? message + " (template line " + line + ")" : message);
        this.line = line;
        this.raisedByTemplate = raisedByTemplate;
        this.rawMessage = message;
    }

    /** The message without the line suffix; for raise_exception this is exactly the template's text. */
    public String templateMessage() {
        return rawMessage;
    }

    /** 1-based template line, or 0 when unknown. */
    public int line() {
        return line;
    }

    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }

    /** The same error with a line number attached, unless it already has one. */
    TemplateException atLine(int newLine) {
        if (line > 0 || newLine <= 0) return this;
        TemplateException e = new TemplateException(rawMessage, newLine, raisedByTemplate);
        e.setStackTrace(getStackTrace());
        return e;
    }
}

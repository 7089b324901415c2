package io.chorus.engine.api;

/**
 * A request the engine can never serve as asked (the server answers HTTP 400 with the message and,
 * when known, the name of the offending parameter).
 */
public final class InvalidRequestException extends RuntimeException {
    private final String param;

    public InvalidRequestException(String message) {
        this(message, null);
    }

    public InvalidRequestException(String message, String param) {
        super(message);
        this.param = param;
    }

    /** The request parameter at fault (OpenAI's {@code param}), or null. */
    public String param() {
        return param;
    }
}

package io.chorus.engine.api;

/** A request the engine can never serve as asked (the server answers HTTP 400 with the message). */
public final class InvalidRequestException extends RuntimeException {
    public InvalidRequestException(String message) {
        super(message);
    }
}

package io.chorus.hub;

/** A download from the hub failed; the message says why in the user's terms (offline, 401, 404, checksum). */
public final class HubException extends RuntimeException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.chorus.model.gguf;

import io.chorus.model.checkpoint.CheckpointException;

/** A GGUF file that cannot be used; the message names the file and what is wrong with it. */
public class GgufException extends CheckpointException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}

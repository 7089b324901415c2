package io.chorus.model.checkpoint;

/** A checkpoint (GGUF file or Hugging Face folder) that cannot be used; the message names the file and the problem. */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.chorus.model;

/** A model file that is valid GGUF but uses something Chorus cannot run (architecture, tensor type...). */
public class UnsupportedModelException extends RuntimeException {
    public UnsupportedModelException(String message) {
        super(message);
    }
}

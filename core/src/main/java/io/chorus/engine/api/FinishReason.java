package io.chorus.engine.api;

/** Why a sequence ended; the first three are OpenAI's {@code finish_reason} values. */
public enum FinishReason {
    /** EOS or a stop token was sampled. */
    STOP,
    /** max_tokens or the model's context length was reached. */
    LENGTH,
    /** The client went away, asked to abort, or the deadline passed. */
    ABORT,
    /** The engine failed while running it (the output carries the message). */
    ERROR;

    public String openAiName() { return name().toLowerCase(java.util.Locale.ROOT); }
}

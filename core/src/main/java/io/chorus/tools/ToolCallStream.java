package io.chorus.tools;

/** One completion's output, fed to a tool-call parser as it is generated. Not thread-safe. */
public interface ToolCallStream {
    /** Adds the next piece of output; reports what is now final. */
    void push(String text, ToolCallEvents out);

    /** The output ended: reports whatever was held back. */
    void finish(ToolCallEvents out);
}

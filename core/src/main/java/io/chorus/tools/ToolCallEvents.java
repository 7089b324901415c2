package io.chorus.tools;

/**
 * What a tool-call parser reports while it reads model output, in output order. Calls are numbered
 * from 0 in the order they start; a call's {@link #callStart} comes before any of its arguments.
 */
public interface ToolCallEvents {
    /** Text outside tool calls, final (never markup that may still turn into a call). */
    void content(String text);

    /** A call begins: its index, id and function name. */
    void callStart(int index, String id, String name);

    /** The next piece of call {@code index}'s arguments JSON text. */
    void callArguments(int index, String fragment);
}

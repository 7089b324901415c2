package io.chorus.tools;

/**
 * One function call the model made, in OpenAI's shape.
 *
 * @param id        the call's id ({@code call_...}, or the 9 characters Mistral's template requires)
 * @param name      the function name as the model wrote it
 * @param arguments the arguments object as JSON text, exactly as the model wrote it
 */
public record ToolCall(String id, String name, String arguments) {}

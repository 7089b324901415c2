package io.chorus.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.tools.ChatOutputParser;
import io.chorus.tools.ParsedOutput;
import io.chorus.tools.ReasoningParser;
import io.chorus.tools.ToolCall;
import io.chorus.tools.ToolCallParser;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Turns a chat completion's text into OpenAI's assistant message: reasoning_content (when the model
 * has a reasoning parser), content, and tool_calls with finish_reason "tool_calls" (when the request
 * reads calls). Whole messages for plain responses, deltas for streams. One per request; each
 * completion index has its own parser state. Used by the request's thread only.
 */
final class ChatOutput {
    private static final RandomGenerator IDS = new SecureRandom();

    private final ReasoningParser reasoning;
    private final boolean startsInside;
    private final ToolCallParser tools;
    private final boolean parallel;
    private final ChatOutputParser[] streams;
    private final Deltas[] deltas;

    /**
     * @param tools       null = calls are not read
     * @param parallel    false = only the first call is kept
     * @param constrained the output decodes under a grammar from its first token (tool_choice required, a
     *                    response format): it has no reasoning block to split off, even where the prompt opens one
     */
    ChatOutput(OutputParsers parsers, String prompt, ToolCallParser tools, boolean parallel, boolean constrained, int n) {
        this.reasoning = constrained ? null : parsers.reasoning();
        this.startsInside = reasoning != null && ReasoningParser.promptOpensReasoning(prompt);
        this.tools = tools;
        this.parallel = parallel;
        this.streams = new ChatOutputParser[n];
        this.deltas = new Deltas[n];
        for (int i = 0; i < n; i++) {
            streams[i] = new ChatOutputParser(reasoning, startsInside, tools, true, IDS);
            deltas[i] = new Deltas();
        }
    }

    /** Whether a reasoning block is split off. */
    boolean readsReasoning() {
        return reasoning != null;
    }

    /** Whether any parsing happens (else text passes through as content unchanged). */
    boolean active() {
        return reasoning != null || tools != null;
    }

    /** The message of a whole response, and its finish reason ("tool_calls" when it made calls and stopped). */
    record Message(ObjectNode json, String finishReason) {}

    Message message(String text, String finishReason) {
        ParsedOutput p = ChatOutputParser.parse(text, reasoning, startsInside, tools, IDS);
        List<ToolCall> calls = parallel || p.calls().size() <= 1 ? p.calls() : p.calls().subList(0, 1);
        ObjectNode msg = ChorusServer.JSON.createObjectNode();
        msg.put("role", "assistant");
        msg.put("content", p.content());
        if (reasoning != null) msg.put("reasoning_content", p.reasoning());
        msg.putNull("refusal");
        if (!calls.isEmpty()) {
            ArrayNode arr = msg.putArray("tool_calls");
            for (ToolCall c : calls) {
                ObjectNode o = arr.addObject();
                o.put("id", c.id());
                o.put("type", "function");
                o.putObject("function").put("name", c.name()).put("arguments", c.arguments());
            }
        }
        return new Message(msg, !calls.isEmpty() && "stop".equals(finishReason) ? "tool_calls" : finishReason);
    }

    /** The deltas the next piece of completion {@code index}'s text makes (possibly none: held back). */
    List<ObjectNode> push(int index, String text) {
        Deltas d = deltas[index];
        d.out.clear();
        streams[index].push(text, d);
        return List.copyOf(d.out);
    }

    /** The last deltas of completion {@code index}, at its end. */
    List<ObjectNode> finish(int index) {
        Deltas d = deltas[index];
        d.out.clear();
        streams[index].finish(d);
        return List.copyOf(d.out);
    }

    /** The finish reason to send: "tool_calls" when completion {@code index} made calls and stopped. */
    String finishReason(int index, String engineReason) {
        return deltas[index].calls > 0 && "stop".equals(engineReason) ? "tool_calls" : engineReason;
    }

    /** Parser events as OpenAI chunk deltas; calls past the first are dropped when not parallel. */
    private final class Deltas implements ChatOutputParser.Events {
        final List<ObjectNode> out = new ArrayList<>();
        int calls;

        @Override
        public void reasoning(String text) {
            out.add(ChorusServer.JSON.createObjectNode().put("reasoning_content", text));
        }

        @Override
        public void content(String text) {
            out.add(ChorusServer.JSON.createObjectNode().put("content", text));
        }

        @Override
        public void callStart(int index, String id, String name) {
            if (!parallel && index > 0) return;
            calls++;
            ObjectNode call = call(index);
            call.put("id", id);
            call.put("type", "function");
            call.putObject("function").put("name", name).put("arguments", "");
        }

        @Override
        public void callArguments(int index, String fragment) {
            if (!parallel && index > 0) return;
            call(index).putObject("function").put("arguments", fragment);
        }

        private ObjectNode call(int index) {
            ObjectNode delta = ChorusServer.JSON.createObjectNode();
            ObjectNode call = delta.putArray("tool_calls").addObject();
            call.put("index", index);
            out.add(delta);
            return call;
        }
    }
}

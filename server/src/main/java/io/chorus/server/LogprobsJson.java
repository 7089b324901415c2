package io.chorus.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;

/** Engine logprobs in OpenAI's two shapes: chat ({@code content[]}) and legacy completions. */
final class LogprobsJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private LogprobsJson() {}

    /** JSON has no -Infinity: impossible tokens get vLLM's stand-in. */
    static double finite(float lp) {
        return Float.isFinite(lp) ? lp : -9999.0;
    }

    static String tokenString(Tokenizer tok, int id) {
        return new String(tok.tokenBytes(id), StandardCharsets.UTF_8);
    }

    /** One chat {@code logprobs.content} entry: token, logprob, bytes and the top alternatives. */
    static ObjectNode chatEntry(Tokenizer tok, TokenLogprobs lp) {
        ObjectNode e = entry(tok, lp.tokenId(), lp.logprob());
        ArrayNode top = e.putArray("top_logprobs");
        for (int k = 0; k < lp.topIds().length; k++) top.add(entry(tok, lp.topIds()[k], lp.topLogprobs()[k]));
        return e;
    }

    private static ObjectNode entry(Tokenizer tok, int id, float logprob) {
        ObjectNode e = F.objectNode();
        e.put("token", tokenString(tok, id));
        e.put("logprob", finite(logprob));
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : tok.tokenBytes(id)) bytes.add(b & 0xff);
        return e;
    }

    /** The chat {@code logprobs} object for a run of tokens. */
    static ObjectNode chat(Tokenizer tok, Iterable<TokenLogprobs> lps) {
        ObjectNode o = F.objectNode();
        ArrayNode content = o.putArray("content");
        for (TokenLogprobs lp : lps) content.add(chatEntry(tok, lp));
        o.putNull("refusal");
        return o;
    }

    /** Accumulates the legacy completions shape: tokens, token_logprobs, top_logprobs, text_offset. */
    static final class Legacy {
        final ArrayNode tokens = F.arrayNode(), tokenLogprobs = F.arrayNode(), topLogprobs = F.arrayNode(), textOffset = F.arrayNode();
        private int offset;

        Legacy(int startOffset) { this.offset = startOffset; }

        /** A token; lp null for a token without a prediction (the first prompt token). */
        void add(Tokenizer tok, int id, TokenLogprobs lp) {
            String s = tokenString(tok, id);
            tokens.add(s);
            textOffset.add(offset);
            offset += s.length();
            if (lp == null) {
                tokenLogprobs.addNull();
                topLogprobs.addNull();
                return;
            }
            tokenLogprobs.add(finite(lp.logprob()));
            ObjectNode top = F.objectNode();
            for (int k = 0; k < lp.topIds().length; k++) top.put(tokenString(tok, lp.topIds()[k]), finite(lp.topLogprobs()[k]));
            topLogprobs.add(top);
        }

        ObjectNode toJson() {
            ObjectNode o = F.objectNode();
            o.set("tokens", tokens);
            o.set("token_logprobs", tokenLogprobs);
            o.set("top_logprobs", topLogprobs);
            o.set("text_offset", textOffset);
            return o;
        }

        /** The entries added since the last call, for a streaming chunk. */
        ObjectNode drain() {
            ObjectNode o = toJson().deepCopy();
            tokens.removeAll();
            tokenLogprobs.removeAll();
            topLogprobs.removeAll();
            textOffset.removeAll();
            return o;
        }
    }
}

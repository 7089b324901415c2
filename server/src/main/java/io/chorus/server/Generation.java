package io.chorus.server;

import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.TokenLogprobs;
import io.chorus.tokenizer.StopStringMatcher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.IntPredicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Drives one engine request to the end and turns its token events into text per completion index:
 * incremental detokenization, stop strings (matched on text here; the engine stops on tokens),
 * finish reasons and token counts. One instance per request, used by the handler's thread.
 *
 * <p>A stop string ends its own completion; the request is aborted in the engine once every
 * completion is over. A sink that fails with an I/O error (the client went away) aborts the request.
 */
final class Generation {
    /** Where the text goes, as it becomes final. */
    interface Sink {
        /** New text of one completion (may be empty when only tokens arrived), with the tokens behind it. */
        void text(int index, String text, int[] tokenIds, TokenLogprobs[] logprobs) throws IOException;

        /** The completion ended; its last text was already delivered. */
        void finish(int index, String finishReason) throws IOException;
    }

    /** The client is gone: the request was aborted. */
    static final class ClientGone extends RuntimeException {
        ClientGone(Throwable cause) { super(cause.getMessage(), cause, false, false); }
    }

    private static final Logger LOG = Logger.getLogger(Generation.class.getName());
    /** How often a non-streaming request looks at its client's connection while it waits. */
    private static final Duration WATCH_PERIOD = Duration.ofMillis(20);
    /** What a client is told when turning its tokens into text failed; the cause is only logged. */
    static final String DECODE_ERROR = "the server failed while decoding this request's output; see the server log";

    private final SamplingParams params;
    private final RequestHandle handle;
    private final RequestTimer timer;
    private final Choice[] choices;
    private int open;
    private TokenLogprobs[] promptLogprobs;
    private String error;

    private static final class Choice {
        final Detokenizers.Stream detok;
        final StopStringMatcher stops;
        int tokens;
        String finishReason;

        Choice(Detokenizers.Stream detok, StopStringMatcher stops) {
            this.detok = detok;
            this.stops = stops;
        }
    }

    Generation(Detokenizers detokenizers, SamplingParams params, RequestHandle handle, RequestTimer timer) {
        this(detokenizers, params, handle, timer, id -> false);
    }

    /** {@code alwaysRender}: tokens rendered as text even when special tokens are skipped (an output parser's markers). */
    Generation(Detokenizers detokenizers, SamplingParams params, RequestHandle handle, RequestTimer timer, IntPredicate alwaysRender) {
        this.params = params;
        this.handle = handle;
        this.timer = timer;
        this.choices = new Choice[params.n()];
        for (int i = 0; i < choices.length; i++) {
            choices[i] = new Choice(detokenizers.open(params, alwaysRender), new StopStringMatcher(params.stop(), params.includeStopStrInOutput()));
        }
        this.open = choices.length;
    }

    /** Runs to the end, feeding {@code sink}. */
    void run(Sink sink) throws InterruptedException {
        run(ConnectionWatch.ALWAYS_CONNECTED, sink);
    }

    /**
     * Runs to the end, feeding {@code sink}; aborts the request as soon as {@code clientGone} says so
     * (a non-streaming client whose connection closed), and throws {@link ClientGone}.
     */
    void run(BooleanSupplier clientGone, Sink sink) throws InterruptedException {
        boolean watched = clientGone != ConnectionWatch.ALWAYS_CONNECTED;
        Duration wait = watched ? WATCH_PERIOD : Duration.ofSeconds(5);
        try {
            while (open > 0) {
                if (watched && clientGone.getAsBoolean()) throw new IOException("the client closed the connection");
                RequestOutput out;
                try {
                    out = handle.next(wait);
                } catch (TimeoutException e) {
                    continue; // the engine is busy; it always ends a request (finish, abort or error) eventually
                }
                if (out == null) break;
                accept(out, sink);
            }
            if (open > 0) { // the stream ended without a finish event for some index: treat as aborted
                for (int i = 0; i < choices.length; i++) if (choices[i].finishReason == null) finish(i, "abort", sink);
            }
        } catch (IOException | UncheckedIOException e) {
            handle.abort();
            if (open > 0) timer.finished("abort"); // a write failing after the last finish changes nothing
            throw new ClientGone(e);
        } catch (InterruptedException | RuntimeException e) {
            handle.abort(); // whatever went wrong here, the engine must not go on generating for nobody
            throw e;
        }
    }

    private void accept(RequestOutput out, Sink sink) throws IOException {
        if (out.promptLogprobs() != null && promptLogprobs == null) promptLogprobs = out.promptLogprobs();
        Choice c = choices[out.index()];
        if (c.finishReason != null) return; // ended by a stop string; the engine has not caught up yet
        int[] ids = out.newTokenIds();
        if (ids.length > 0) timer.tokens(ids.length, out.timings());
        c.tokens += ids.length;
        StringBuilder text = new StringBuilder();
        try {
            for (int id : ids) text.append(c.detok.push(id));
            if (out.finished()) text.append(c.detok.flush());
        } catch (RuntimeException e) {
            // This request's failure alone: stop it in the engine and end every completion with an error.
            LOG.log(Level.WARNING, "decoding the output of request " + out.requestId() + " failed; failing that request", e);
            handle.abort();
            error = DECODE_ERROR;
            for (int i = 0; i < choices.length; i++) {
                if (choices[i].finishReason == null) finish(i, FinishReason.ERROR.openAiName(), sink);
            }
            return;
        }
        StopStringMatcher.Result r = c.stops.push(text.toString());
        if (r.stopped()) {
            sink.text(out.index(), r.text(), ids, out.logprobs());
            finish(out.index(), "stop", sink);
            if (!out.finished()) {
                // Free this completion's blocks now; the others (n > 1) go on.
                if (open == 0) handle.abort();
                else handle.abort(out.index());
            }
            return;
        }
        String tail = out.finished() ? c.stops.flush() : "";
        sink.text(out.index(), r.text() + tail, ids, out.logprobs());
        if (out.finished()) {
            if (out.finishReason() == FinishReason.ERROR) error = out.error() != null ? out.error() : "engine error";
            finish(out.index(), out.finishReason().openAiName(), sink);
        }
    }

    private void finish(int index, String reason, Sink sink) throws IOException {
        choices[index].finishReason = reason;
        open--;
        if (open == 0) timer.finished(reason);
        sink.finish(index, reason);
    }

    /**
     * Asks the engine to abort the request, from any thread: this generation's own thread then sees
     * the abort events and finishes its bookkeeping itself.
     */
    void abortFromAnotherThread() {
        handle.abort();
    }

    /** Aborts the request in the engine (the client went away); a no-op once it finished. */
    void abort() {
        if (open > 0) timer.finished("abort");
        handle.abort();
    }

    /** Tokens generated by completion {@code index} (up to where it stopped). */
    int tokens(int index) { return choices[index].tokens; }

    /** Tokens generated by all completions. */
    int totalTokens() {
        int sum = 0;
        for (Choice c : choices) sum += c.tokens;
        return sum;
    }

    String finishReason(int index) { return choices[index].finishReason; }

    /** The engine error when a completion failed, else null. */
    String error() { return error; }

    /** Prompt logprobs when the request asked for them and the engine returned them, else null. */
    TokenLogprobs[] promptLogprobs() { return promptLogprobs; }
}

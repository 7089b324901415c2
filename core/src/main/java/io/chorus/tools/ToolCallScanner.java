package io.chorus.tools;

import java.util.Set;
import java.util.function.Supplier;

/**
 * The incremental reader behind every {@link ToolCallParser}: output is content until a start
 * marker opens a call region; the region holds one or more call objects (one object, a JSON array of
 * them, or objects separated by ';', by {@link Syntax}) and ends at the end marker or, for formats
 * without one, at the end of the output.
 *
 * <p>Rules both modes share, so a streamed response and a whole one say the same:
 * <ul>
 *   <li>Text that could still be the start of a marker is held back, never reported as content.</li>
 *   <li>A region whose first call does not parse is content, markers included (as vLLM leaves it);
 *       after at least one good call, whatever does not parse in the rest of the region is dropped.</li>
 *   <li>Whitespace is held until non-space text follows. When there are calls, whitespace that would
 *       lead or end the content is dropped; whitespace between two pieces of text stays.</li>
 * </ul>
 * In incremental mode a call object that begins {@code {"name": "f", "arguments": {} is reported as
 * it arrives: the name once its arguments object opens, then the arguments text piece by piece.
 * Any other shape (keys in another order, escapes in the name) is held until the object is complete
 * and then read as a whole, exactly as the non-incremental mode reads every object. Only a call whose
 * arguments turn out broken after they began to stream differs: streamed text cannot be taken back.
 *
 * <p>State is per completion; not thread-safe. Work per character is constant (no re-scanning).
 */
final class ToolCallScanner implements ToolCallStream {
    /** How a region holds its calls. */
    enum Body { ONE_OBJECT, ARRAY, SEMICOLON_LIST }

    /**
     * One model family's call syntax.
     *
     * @param start        the marker that opens a region
     * @param end          the marker that closes it; null = the region runs to the end of the output
     * @param onlyAtStart  a region can open only at the start of the output (after whitespace), where a
     *                     bare {@code {} opens one too (Llama 3's JSON calls)
     * @param body         how the region holds its calls
     * @param argumentKeys the key of the arguments object ("arguments", or Llama's "parameters")
     */
    record Syntax(String start, String end, boolean onlyAtStart, Body body, Set<String> argumentKeys) {}

    private enum Top { OUTSIDE, REGION, RAW_REGION, AFTER_REGION, CONTENT_ONLY }

    private enum Part { BEFORE_ARRAY, EXPECT_ITEM, IN_ITEM, AFTER_ITEM, IGNORE }

    /** Where the fast path is inside {@code {"name": "f", "arguments": {}. */
    private enum Prefix { KEY1_OPEN, KEY1, COLON1, NAME_OPEN, NAME, COMMA, KEY2_OPEN, KEY2, COLON2, ARGS_OPEN, ARGS, REST }

    private final Syntax syntax;
    private final boolean incremental;
    private final Supplier<String> ids;

    private final StringBuilder in = new StringBuilder(); // received, not yet consumed
    private Top top = Top.OUTSIDE;
    private final StringBuilder pendingSpace = new StringBuilder(); // whitespace held outside calls
    private boolean contentEmitted;        // some non-space content was reported

    // The current region.
    private StringBuilder regionRaw;       // its text so far (markers included) until a call is reported
    private Part part;
    private int itemsInRegion;
    private int calls;                     // calls reported so far (the next call's index)

    // The current call object.
    private final StringBuilder objRaw = new StringBuilder();
    private int depth;
    private boolean inString, escape;
    private boolean fast;                  // following the fast path
    private Prefix prefix;
    private final StringBuilder word = new StringBuilder(); // a key or the name being read
    private String name;
    private boolean started;               // this object's callStart was reported

    // Output coalescing: consecutive pieces of one kind become one event.
    private final StringBuilder outText = new StringBuilder();
    private int outKind = -1;              // -1 none, -2 content, else the call index of arguments
    private ToolCallEvents out;

    ToolCallScanner(Syntax syntax, boolean incremental, Supplier<String> ids) {
        this.syntax = syntax;
        this.incremental = incremental;
        this.ids = ids;
    }

    @Override
    public void push(String text, ToolCallEvents events) {
        out = events;
        in.append(text);
        drain(false);
        flushOut();
    }

    @Override
    public void finish(ToolCallEvents events) {
        out = events;
        drain(true);
        if (top == Top.REGION || top == Top.RAW_REGION) endRegion(false);
        if (calls == 0) emitContent(pendingSpace); // trailing whitespace is content only when there are no calls
        pendingSpace.setLength(0);
        flushOut();
    }

    private void drain(boolean eof) {
        while (!in.isEmpty()) {
            switch (top) {
                case OUTSIDE -> {
                    if (syntax.onlyAtStart()) {
                        if (!drainAtStart(eof)) return;
                        continue;
                    }
                    int at = in.indexOf(syntax.start());
                    if (at >= 0) {
                        content(in, 0, at);
                        in.delete(0, at + syntax.start().length());
                        openRegion(syntax.start());
                        continue;
                    }
                    int keep = eof ? 0 : heldPrefix(in, syntax.start());
                    content(in, 0, in.length() - keep);
                    in.delete(0, in.length() - keep);
                    return;
                }
                case CONTENT_ONLY -> {
                    content(in, 0, in.length());
                    in.setLength(0);
                }
                case AFTER_REGION -> in.setLength(0); // a region without an end marker runs to the end
                case REGION, RAW_REGION -> {
                    if (syntax.end() == null) {
                        body(in, 0, in.length());
                        in.setLength(0);
                        continue;
                    }
                    int at = in.indexOf(syntax.end());
                    if (at >= 0) {
                        body(in, 0, at);
                        in.delete(0, at + syntax.end().length());
                        endRegion(true);
                        continue;
                    }
                    int keep = eof ? 0 : heldPrefix(in, syntax.end());
                    body(in, 0, in.length() - keep);
                    in.delete(0, in.length() - keep);
                    return;
                }
            }
        }
    }

    /** Before anything but whitespace (onlyAtStart syntaxes): false when more input is needed. */
    private boolean drainAtStart(boolean eof) {
        int i = 0;
        while (i < in.length() && isSpace(in.charAt(i))) i++;
        pendingSpace.append(in, 0, i);
        in.delete(0, i);
        if (in.isEmpty()) return false;
        if (in.charAt(0) == '{') {
            openRegion("");
            return true;
        }
        String start = syntax.start();
        if (in.length() >= start.length() && in.indexOf(start) == 0) {
            in.delete(0, start.length());
            openRegion(start);
            return true;
        }
        if (!eof && in.length() < start.length() && start.startsWith(in.toString())) return false;
        top = Top.CONTENT_ONLY;
        return true;
    }

    private void openRegion(String marker) {
        top = Top.REGION;
        regionRaw = new StringBuilder(marker);
        part = syntax.body() == Body.ARRAY ? Part.BEFORE_ARRAY : Part.EXPECT_ITEM;
        itemsInRegion = 0;
    }

    /** The region ended: at its end marker ({@code atMarker}) or at the end of the output. */
    private void endRegion(boolean atMarker) {
        if (top == Top.REGION && part == Part.IN_ITEM) {
            if (started) itemsInRegion++; // a streamed call cut short stays a call
            else if (itemsInRegion == 0) fail();
        } else if (top == Top.REGION && itemsInRegion == 0) {
            fail();
        }
        if (top == Top.RAW_REGION && atMarker) content(syntax.end(), 0, syntax.end().length());
        regionRaw = null;
        top = syntax.end() == null ? Top.AFTER_REGION : Top.OUTSIDE;
    }

    /** The region's first call does not parse: all of it is content. */
    private void fail() {
        top = Top.RAW_REGION;
        content(regionRaw, 0, regionRaw.length());
        regionRaw = null;
    }

    private void body(CharSequence s, int from, int to) {
        if (top == Top.RAW_REGION) {
            content(s, from, to);
            return;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (regionRaw != null) regionRaw.append(c);
            bodyChar(c);
            if (top == Top.RAW_REGION) { // failed on this character: the rest is plain text
                content(s, i + 1, to);
                return;
            }
        }
    }

    private void bodyChar(char c) {
        switch (part) {
            case BEFORE_ARRAY -> {
                if (isSpace(c)) return;
                if (c == '[') part = Part.EXPECT_ITEM;
                else if (c == '{') beginItem();
                else fail();
            }
            case EXPECT_ITEM -> {
                if (isSpace(c)) return;
                if (c == '{') beginItem();
                else if (itemsInRegion == 0) fail();
                else part = Part.IGNORE;
            }
            case IN_ITEM -> itemChar(c);
            case AFTER_ITEM -> {
                if (isSpace(c)) return;
                char sep = syntax.body() == Body.ARRAY ? ',' : syntax.body() == Body.SEMICOLON_LIST ? ';' : 0;
                part = sep != 0 && c == sep ? Part.EXPECT_ITEM : Part.IGNORE;
            }
            case IGNORE -> { }
        }
    }

    private void beginItem() {
        part = Part.IN_ITEM;
        objRaw.setLength(0);
        objRaw.append('{');
        depth = 1;
        inString = false;
        escape = false;
        fast = incremental;
        prefix = Prefix.KEY1_OPEN;
        started = false;
        name = null;
    }

    private void itemChar(char c) {
        objRaw.append(c);
        boolean quote = false; // an unescaped quote that opens or closes a string
        if (inString) {
            if (escape) escape = false;
            else if (c == '\\') escape = true;
            else if (c == '"') { inString = false; quote = true; }
        } else if (c == '"') {
            inString = true;
            quote = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
        if (fast) fastChar(c, quote);
        if (depth == 0) itemDone();
    }

    /** The fast path over {@code {"name": "f", "arguments": {...} ...}}; any other shape leaves it. */
    private void fastChar(char c, boolean quote) {
        switch (prefix) {
            case KEY1_OPEN, NAME_OPEN, KEY2_OPEN -> {
                if (isSpace(c)) return;
                if (!quote) { fast = false; return; }
                word.setLength(0);
                prefix = prefix == Prefix.KEY1_OPEN ? Prefix.KEY1 : prefix == Prefix.NAME_OPEN ? Prefix.NAME : Prefix.KEY2;
            }
            case KEY1, NAME, KEY2 -> {
                if (c == '\\') { fast = false; return; }
                if (!quote) { word.append(c); return; }
                String w = word.toString();
                switch (prefix) {
                    case KEY1 -> { if (w.equals("name")) prefix = Prefix.COLON1; else fast = false; }
                    case NAME -> { if (!w.isEmpty()) { name = w; prefix = Prefix.COMMA; } else fast = false; }
                    default -> { if (syntax.argumentKeys().contains(w)) prefix = Prefix.COLON2; else fast = false; }
                }
            }
            case COLON1, COLON2, COMMA -> {
                if (isSpace(c)) return;
                char want = prefix == Prefix.COMMA ? ',' : ':';
                if (c != want) { fast = false; return; }
                prefix = prefix == Prefix.COLON1 ? Prefix.NAME_OPEN : prefix == Prefix.COMMA ? Prefix.KEY2_OPEN : Prefix.ARGS_OPEN;
            }
            case ARGS_OPEN -> {
                if (isSpace(c)) return;
                if (c != '{') { fast = false; return; }
                startCall(name);
                emitArguments(c);
                prefix = Prefix.ARGS;
            }
            case ARGS -> {
                emitArguments(c);
                if (depth == 1) prefix = Prefix.REST; // the arguments object just closed
            }
            case REST -> { }
        }
    }

    private void itemDone() {
        if (!started) {
            String[] call = CallObject.parse(objRaw.toString(), syntax.argumentKeys());
            if (call == null) {
                if (itemsInRegion == 0) fail();
                else part = Part.IGNORE;
                return;
            }
            startCall(call[0]);
            emitArguments(call[1]);
        }
        itemsInRegion++;
        part = syntax.body() == Body.ONE_OBJECT ? Part.IGNORE : Part.AFTER_ITEM;
    }

    private void startCall(String fn) {
        started = true;
        if (regionRaw != null) { // the region holds a call: its text is not content
            regionRaw = null;
            if (!contentEmitted) pendingSpace.setLength(0); // nor the space before it, when it would lead the content
        }
        flushOut();
        out.callStart(calls, ids.get(), fn);
        calls++;
    }

    private void emitArguments(char c) {
        toArguments();
        outText.append(c);
    }

    private void emitArguments(String s) {
        toArguments();
        outText.append(s);
    }

    /** The output buffer now collects the current call's arguments. */
    private void toArguments() {
        int index = calls - 1;
        if (outKind != index) {
            flushOut();
            outKind = index;
        }
    }

    /** Text outside calls, through the whitespace rule. */
    private void content(CharSequence s, int from, int to) {
        int i = from;
        while (i < to) {
            int j = i;
            while (j < to && isSpace(s.charAt(j))) j++;
            pendingSpace.append(s, i, j);
            if (j == to) return;
            int k = j;
            while (k < to && !isSpace(s.charAt(k))) k++;
            if (contentEmitted || calls == 0) emitContent(pendingSpace);
            pendingSpace.setLength(0);
            contentEmitted = true;
            emitContent(s.subSequence(j, k));
            i = k;
        }
    }

    private void emitContent(CharSequence s) {
        if (s.isEmpty()) return;
        if (outKind != -2) {
            flushOut();
            outKind = -2;
        }
        outText.append(s);
    }

    private void flushOut() {
        if (!outText.isEmpty()) {
            if (outKind == -2) out.content(outText.toString());
            else out.callArguments(outKind, outText.toString());
        }
        outText.setLength(0);
        outKind = -1;
    }

    /** The length of the longest tail of {@code s} that is a proper prefix of {@code marker}. */
    static int heldPrefix(CharSequence s, String marker) {
        int max = Math.min(s.length(), marker.length() - 1);
        for (int n = max; n > 0; n--) {
            boolean match = true;
            for (int k = 0; k < n && match; k++) match = s.charAt(s.length() - n + k) == marker.charAt(k);
            if (match) return n;
        }
        return 0;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }
}

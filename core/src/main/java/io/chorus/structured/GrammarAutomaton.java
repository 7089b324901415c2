package io.chorus.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A grammar run as a byte automaton built lazily: a {@link State} is the set of parse stacks the
 * grammar can be in after some text (a pushdown matcher in the style of llama.cpp's grammar stacks)
 * plus any incomplete UTF-8 character; states and stacks are interned, so equal states are one
 * object and each (state, byte) transition is computed once and then read from the state's table.
 * On JSON, whose states recur constantly, this makes stepping a token a few array reads.
 *
 * <p>A stack is a linked list of element positions, the top being a CHAR element still to match;
 * the empty stack means the root rule is complete. Expanding a REF pushes each alternative of the
 * rule with the rest of the current alternative below it, or nothing below when the REF was last
 * (so right recursion does not grow the stack).
 *
 * <p>Implementation notes: not thread-safe; after construction (which builds the start state) only
 * the engine loop thread touches it. When the interning table passes {@link #MAX_STATES} states it
 * is dropped together with every state's transition table and cached mask: states held by matchers
 * stay valid (their transitions are computed again), and nothing keeps the old states reachable, so
 * memory stays bounded even where counted repetitions and partial UTF-8 characters make many states.
 */
final class GrammarAutomaton {
    static final int MAX_STATES = 10_000;

    /** One parse stack: {@code pos} on top of {@code next} (null below the bottom element). */
    static final class Stack {
        final int pos;
        final Stack next;
        final int id;

        Stack(int pos, Stack next, int id) {
            this.pos = pos;
            this.next = next;
            this.id = id;
        }
    }

    /** Stands for the empty stack (the root rule matched completely) inside state stack lists. */
    static final Stack EMPTY = new Stack(-1, null, 0);

    /** A set of stacks and a partial UTF-8 character: where the grammar may be after some bytes. */
    static final class State {
        final Stack[] stacks;       // sorted by id, distinct; EMPTY first when present
        final int partialValue;     // bits of an incomplete UTF-8 character read so far
        final int partialRemaining; // continuation bytes it still needs; 0 = none
        final int partialLength;    // the whole character's length in bytes (2..4) while one is incomplete
        final boolean accepting;    // the text so far is a complete match
        final boolean canContinue;  // some character may follow
        State[] next;               // [256] lazily filled transitions; DEAD for a rejected byte
        Object mask;                // the vocabulary mask cached by the owner, or null

        State(Stack[] stacks, int partialValue, int partialRemaining, int partialLength) {
            this.stacks = stacks;
            this.partialValue = partialValue;
            this.partialRemaining = partialRemaining;
            this.partialLength = partialLength;
            this.accepting = partialRemaining == 0 && stacks.length > 0 && stacks[0] == EMPTY;
            this.canContinue = stacks.length > (accepting ? 1 : 0);
        }
    }

    /** The state no byte leaves: the text cannot be continued to a match. */
    static final State DEAD = new State(new Stack[0], 0, 0, 0);
    /** The smallest code point of a character of each UTF-8 length: shorter (overlong) forms are not UTF-8. */
    private static final int[] MIN_BY_LENGTH = {0, 0, 0x80, 0x800, 0x10000};

    private final Grammar g;
    private final Map<Long, Stack> stacks = new HashMap<>();
    private final Map<Key, State> states = new HashMap<>();
    private int nextStackId = 1;
    private int resets;
    private final State start;
    // Scratch for building stack sets.
    private final List<Stack> scratch = new ArrayList<>();

    private record Key(int[] ids, int value, int remaining, int length) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.value == value && k.remaining == remaining && k.length == length && Arrays.equals(k.ids, ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids) * 31 + value * 7 + remaining * 3 + length;
        }
    }

    GrammarAutomaton(Grammar g) {
        this.g = g;
        scratch.clear();
        for (int a : g.alts()[g.root()]) expand(g.kind()[a] == Grammar.END ? EMPTY : stack(a, null), scratch);
        this.start = state(scratch, 0, 0, 0);
    }

    Grammar grammar() { return g; }

    State start() { return start; }

    int stateCount() { return states.size(); }

    /** How often the state table was dropped for size. */
    int resets() { return resets; }

    /** The state after reading byte {@code b} (0..255) in {@code s}; {@link #DEAD} if the byte is rejected. */
    State step(State s, int b) {
        State[] t = s.next;
        if (t == null) {
            if (s == DEAD) return DEAD;
            t = s.next = new State[256];
        }
        State n = t[b];
        if (n == null) n = t[b] = compute(s, b);
        return n;
    }

    private State compute(State s, int b) {
        if (s.partialRemaining == 0) {
            if (b < 0x80) return accept(s, b);
            int remaining, value;
            if (b >= 0xC2 && b <= 0xDF) { remaining = 1; value = b & 0x1F; }
            else if (b >= 0xE0 && b <= 0xEF) { remaining = 2; value = b & 0x0F; }
            else if (b >= 0xF0 && b <= 0xF4) { remaining = 3; value = b & 0x07; }
            else return DEAD;
            return partial(s, value, remaining, remaining + 1);
        }
        if ((b & 0xC0) != 0x80) return DEAD;
        int value = (s.partialValue << 6) | (b & 0x3F);
        int remaining = s.partialRemaining - 1;
        if (remaining == 0) {
            if (value < MIN_BY_LENGTH[s.partialLength] || (value >= 0xD800 && value <= 0xDFFF) || value > CharRanges.MAX_CODE_POINT) return DEAD;
            return accept(s, value);
        }
        return partial(s, value, remaining, s.partialLength);
    }

    /** The state waiting for more bytes of a character, if some stack can take a character with this prefix. */
    private State partial(State s, int value, int remaining, int length) {
        int lo = Math.max(value << (6 * remaining), MIN_BY_LENGTH[length]);
        int hi = Math.min(((value + 1) << (6 * remaining)) - 1, CharRanges.MAX_CODE_POINT);
        if (lo > hi) return DEAD;
        for (Stack st : s.stacks) {
            if (st != EMPTY && g.classes()[g.arg()[st.pos]].intersects(lo, hi)) {
                return state(Arrays.asList(s.stacks), value, remaining, length);
            }
        }
        return DEAD;
    }

    /** The state after code point {@code c}. */
    private State accept(State s, int c) {
        List<Stack> out = new ArrayList<>();
        byte[] kind = g.kind();
        int[] arg = g.arg();
        for (Stack st : s.stacks) {
            if (st == EMPTY || !g.classes()[arg[st.pos]].contains(c)) continue;
            int p = st.pos + 1;
            Stack rest = kind[p] == Grammar.END ? st.next : stack(p, st.next);
            expand(rest == null ? EMPTY : rest, out);
        }
        return out.isEmpty() ? DEAD : state(out, 0, 0, 0);
    }

    /** Adds to {@code out} every stack {@code s} becomes once its top is a character (or it is empty). */
    private void expand(Stack s, List<Stack> out) {
        if (s == EMPTY) {
            out.add(EMPTY);
            return;
        }
        int p = s.pos;
        if (g.kind()[p] == Grammar.CHAR) {
            out.add(s);
            return;
        }
        // REF: the rule's alternatives, each with the rest of this alternative below.
        int q = p + 1;
        Stack rest = g.kind()[q] == Grammar.END ? s.next : stack(q, s.next);
        for (int a : g.alts()[g.arg()[p]]) {
            if (g.kind()[a] == Grammar.END) expand(rest == null ? EMPTY : rest, out);
            else expand(stack(a, rest), out);
        }
    }

    private Stack stack(int pos, Stack next) {
        long key = ((long) pos << 32) | (next == null ? 0 : next.id);
        Stack s = stacks.get(key);
        if (s == null) {
            s = new Stack(pos, next, nextStackId++);
            stacks.put(key, s);
        }
        return s;
    }

    private State state(List<Stack> list, int value, int remaining, int length) {
        Stack[] arr = list.toArray(new Stack[0]);
        Arrays.sort(arr, (a, b) -> Integer.compare(a.id, b.id));
        int n = 0;
        for (int i = 0; i < arr.length; i++) if (n == 0 || arr[n - 1] != arr[i]) arr[n++] = arr[i];
        if (n != arr.length) arr = Arrays.copyOf(arr, n);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = arr[i].id;
        Key key = new Key(ids, value, remaining, length);
        State st = states.get(key);
        if (st == null) {
            if (states.size() >= MAX_STATES) {
                for (State old : states.values()) {
                    old.next = null; // nothing reaches the old states through transitions any more
                    old.mask = null;
                }
                states.clear();
                stacks.clear(); // ids stay unique (nextStackId only grows), so old and new stacks never collide
                resets++;
            }
            st = new State(arr, value, remaining, length);
            states.put(key, st);
        }
        return st;
    }
}

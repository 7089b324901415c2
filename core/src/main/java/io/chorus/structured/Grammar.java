package io.chorus.structured;

import java.util.List;

/**
 * A parsed grammar in flat form, ready for matching: every alternative of every rule is a run of
 * elements in {@link #kind}/{@link #arg} ended by {@link #END}. A {@link #CHAR} element matches one
 * code point of {@code classes[arg]}; a {@link #REF} element stands for rule {@code arg}. Groups and
 * repetitions were lowered to extra rules by the parser, so this form has only sequences and
 * alternatives. Immutable.
 *
 * @param kind    [elements] CHAR, REF or END
 * @param arg     [elements] class index (CHAR) or rule id (REF)
 * @param classes character classes
 * @param alts    [rules][alternatives] element index where each alternative starts
 * @param names   [rules] rule names, for messages
 * @param root    the start rule
 */
record Grammar(byte[] kind, int[] arg, CharRanges[] classes, int[][] alts, List<String> names, int root) {
    static final byte END = 0;
    static final byte CHAR = 1;
    static final byte REF = 2;
}

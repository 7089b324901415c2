package io.chorus.tokenizer;

/**
 * Incremental UTF-8 decoder shared by one-shot and streaming detokenization, so both produce the same
 * text for the same bytes however they are chunked.
 *
 * <p>Invalid input becomes U+FFFD following the Unicode "maximal subpart" practice: a byte that cannot
 * start a character (stray continuation bytes, C0, C1, F5..FF) is one U+FFFD; a valid prefix of a
 * character cut short by a byte that cannot continue it is one U+FFFD, and that byte is then decoded
 * afresh; a prefix still open at {@link #finish} is one U+FFFD. Overlong forms, surrogates (ED A0..BF)
 * and values above U+10FFFF are rejected at their second byte.
 */
public final class Utf8Decoder {
    private int cp;        // code point bits gathered so far
    private int need;      // continuation bytes still needed
    private int lower = 0x80, upper = 0xBF; // allowed range of the next continuation byte

    /** True while part of a character is held. */
    public boolean pending() {
        return need > 0;
    }

    /** Decodes one byte, appending any completed character (or U+FFFD) to {@code out}. */
    public void accept(int b, StringBuilder out) {
        b &= 0xFF;
        if (need > 0) {
            if (b >= lower && b <= upper) {
                cp = (cp << 6) | (b & 0x3F);
                lower = 0x80; upper = 0xBF;
                if (--need == 0) out.appendCodePoint(cp);
                return;
            }
            // The held prefix is a maximal subpart: one replacement, then decode b on its own.
            need = 0; lower = 0x80; upper = 0xBF;
            out.append('\uFFFD');
        }
        if (b < 0x80) {
            out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
            cp = b & 0x1F; need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            cp = b & 0x0F; need = 2;
            if (b == 0xE0) lower = 0xA0;
            if (b == 0xED) upper = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            cp = b & 0x07; need = 3;
            if (b == 0xF0) lower = 0x90;
            if (b == 0xF4) upper = 0x8F;
        } else {
            out.append('\uFFFD');
        }
    }

    public void accept(byte[] bytes, StringBuilder out) {
        for (byte b : bytes) accept(b, out);
    }

    /** Ends the input: an unfinished character becomes U+FFFD. */
    public void finish(StringBuilder out) {
        if (need > 0) {
            need = 0; lower = 0x80; upper = 0xBF;
            out.append('\uFFFD');
        }
    }

    /** Decodes a complete byte array. */
    public static String decode(byte[] bytes) {
        Utf8Decoder d = new Utf8Decoder();
        StringBuilder sb = new StringBuilder(bytes.length);
        d.accept(bytes, sb);
        d.finish(sb);
        return sb.toString();
    }
}

package io.chorus.tokenizer;

/**
 * GPT-2's reversible byte-to-character mapping: byte-level BPE vocabularies spell every byte as a
 * printable character (printable Latin-1 bytes map to themselves, the rest to U+0100 onwards), so a
 * word's UTF-8 bytes become a string of one char per byte.
 */
public final class ByteUnicode {
    private ByteUnicode() {}

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    public static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a mapped character stands for, or -1 if the character is not part of the mapping. */
    public static int byteOf(int c) {
        return c >= 0 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The mapped spelling of UTF-8 bytes. */
    public static String encode(byte[] utf8) {
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        return new String(out);
    }
}

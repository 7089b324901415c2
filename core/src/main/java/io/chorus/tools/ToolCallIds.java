package io.chorus.tools;

import java.util.random.RandomGenerator;

/** Tool call ids: {@code call_} and 24 letters and digits (OpenAI's shape), or a fixed length of them. */
public final class ToolCallIds {
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private ToolCallIds() {}

    public static String openAi(RandomGenerator random) {
        return "call_" + alphanumeric(random, 24);
    }

    public static String alphanumeric(RandomGenerator random, int length) {
        char[] c = new char[length];
        for (int i = 0; i < length; i++) c[i] = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
        return new String(c);
    }
}

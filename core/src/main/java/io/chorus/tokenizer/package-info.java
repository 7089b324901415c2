/**
 * Tokenizers read from GGUF metadata, matching llama.cpp's ids and detokenized text.
 *
 * <ul>
 *   <li>{@link io.chorus.tokenizer.Tokenizer}: the entry point ({@code fromGguf}, {@code encode},
 *       {@code decode}, special ids, {@code isEog}).</li>
 *   <li>{@link io.chorus.tokenizer.Vocabulary}: pieces, scores, types, special ids and flags.</li>
 *   <li>{@code SpmTokenizer} / {@code BpeTokenizer}: the two merge algorithms;
 *       {@link io.chorus.tokenizer.PreTokenizer} the BPE word-splitting regexes;
 *       {@link io.chorus.tokenizer.ByteUnicode} GPT-2's byte spelling;
 *       {@code SpecialTokenSplitter} finds special-token text in input.</li>
 *   <li>{@link io.chorus.tokenizer.StreamingDetokenizer} and {@link io.chorus.tokenizer.StopStringMatcher}
 *       for streamed generation output; {@link io.chorus.tokenizer.Utf8Decoder} is the UTF-8 decoding
 *       both one-shot and streaming decoding share.</li>
 * </ul>
 */
package io.chorus.tokenizer;

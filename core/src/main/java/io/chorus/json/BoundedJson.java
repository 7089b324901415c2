package io.chorus.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one way Chorus makes a Jackson {@link ObjectMapper}: with its read limits set here, explicitly,
 * rather than inherited from whatever a Jackson version defaults to. A hostile body can then cost at
 * most {@link #MAX_DEPTH} levels of recursion and {@link #MAX_STRING_CHARS} characters per string
 * (a request body is bounded separately, by bytes, before it is parsed). A key given twice in one
 * object is an error.
 */
public final class BoundedJson {
    /** Deepest nesting of arrays and objects accepted; OpenAI requests need fewer than 10 levels. */
    public static final int MAX_DEPTH = 64;
    /** Longest string value, in characters (the default request-body limit is 8 MiB). */
    public static final int MAX_STRING_CHARS = 8_000_000;
    /** Longest number literal, in characters. */
    public static final int MAX_NUMBER_CHARS = 100;
    /** Longest property name, in characters. */
    public static final int MAX_NAME_CHARS = 1024;

    private BoundedJson() {}

    /** A new mapper with the limits above on reading and the depth limit on writing. */
    public static ObjectMapper mapper() {
        JsonFactory f = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_DEPTH)
                        .maxStringLength(MAX_STRING_CHARS)
                        .maxNumberLength(MAX_NUMBER_CHARS)
                        .maxNameLength(MAX_NAME_CHARS)
                        .build())
                .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION) // {"model": a, "model": b} is ambiguous: refuse it
                .build();
        return new ObjectMapper(f);
    }
}

package io.chorus.model;

import io.chorus.model.gguf.GgufException;
import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;
import io.chorus.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;

/**
 * Phi-3's long-context rope ("longrope", first named "su"; Phi-3.5-mini, Phi-3-mini/medium-128k,
 * Phi-4-mini): two sets of divisors of the rotated pairs' frequencies, one for a context up to the
 * one the model was pre-trained with and one beyond it, and a factor that multiplies cos and sin, so q
 * and k both (attention logits by its square).
 *
 * <p>Which set applies is chosen once per loaded model from the context one sequence may reach, as
 * llama.cpp does (long when it exceeds {@code originalContext}), never per request or per position: the
 * keys already in the cache stay rotated the way new queries are.
 *
 * @param longFactors     [rotDim / 2] divisors when the context per sequence exceeds originalContext (GGUF rope_factors_long)
 * @param shortFactors    [rotDim / 2] divisors otherwise (GGUF rope_factors_short)
 * @param originalContext the pre-training context ({@code rope.scaling.original_context_length}; config.json's
 *                        {@code original_max_position_embeddings})
 * @param attnFactor      multiplies cos and sin ({@code rope.scaling.attn_factor}; 1.19 for Phi-3.5)
 */
public record LongRope(float[] longFactors, float[] shortFactors, int originalContext, float attnFactor) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public static final String LONG_TENSOR = "rope_factors_long.weight";
    public static final String SHORT_TENSOR = "rope_factors_short.weight";

    /** Whether a sequence that may reach {@code contextPerSequence} tokens uses the long factors. */
    public boolean usesLong(int contextPerSequence) {
        return contextPerSequence > originalContext;
    }

    /** The divisors for that context: long beyond the original context, short within it. */
    public float[] factors(int contextPerSequence) {
        return usesLong(contextPerSequence) ? longFactors : shortFactors;
    }

    /** One line for logs and {@code chorus info}: which factors, why, and the attention factor. */
    public String describe(int contextPerSequence) {
        boolean l = usesLong(contextPerSequence);
        return String.format(Locale.ROOT, "%s factors (context %d %s original %d), attention factor %.2f",
                l ? "long" : "short", contextPerSequence, l ? ">" : "<=", originalContext, attnFactor);
    }

    /**
     * The attention factor when the checkpoint gives none, as llama.cpp's converter and transformers
     * derive it from the context growth s = context / original: sqrt(1 + ln s / ln original), 1 when s &lt;= 1.
     */
    public static float derivedAttnFactor(int context, int originalContext) {
        double s = (double) context / originalContext;
        return s > 1 ? (float) Math.sqrt(1 + Math.log(s) / Math.log(originalContext)) : 1f;
    }

    /** Why {@code f} cannot be a set of divisors for {@code half} pairs, or null when it can. */
    public static String problem(float[] f, int half) {
        if (f.length != half) return "has " + f.length + " values, expected " + half + " (rotated dimensions / 2)";
        for (int i = 0; i < f.length; i++) {
            if (!(f[i] > 0) || !Float.isFinite(f[i])) return "value " + i + " is " + f[i] + "; every factor must be positive";
        }
        return null;
    }

    /**
     * Reads the factors and keys llama.cpp's converter writes for longrope, or null when the file has
     * neither factor tensor.
     *
     * @throws GgufException naming the file and the tensor or key when the entry is malformed
     */
    static LongRope fromGguf(GgufFile f, String arch, int rotDim) {
        String file = f.path().toString();
        GgufTensorInfo l = f.tensor(LONG_TENSOR), s = f.tensor(SHORT_TENSOR);
        String attnKey = arch + ".rope.scaling.attn_factor", origKey = arch + ".rope.scaling.original_context_length";
        if (l == null && s == null) return null; // an attention factor alone is RopeScaling's, as in llama.cpp
        if (l == null || s == null) {
            throw new GgufException(file + ": tensor " + (l == null ? LONG_TENSOR : SHORT_TENSOR) + " is missing (longrope needs both "
                    + LONG_TENSOR + " and " + SHORT_TENSOR + ")");
        }
        float[] longF = floats(f, l, rotDim / 2), shortF = floats(f, s, rotDim / 2);
        if (!f.has(origKey)) throw new GgufException(file + ": metadata " + origKey + " is missing (longrope needs the original context)");
        int orig = f.getInt(origKey);
        if (orig <= 0) throw new GgufException(file + ": metadata " + origKey + " = " + orig + " must be positive");
        float attn = f.has(attnKey) ? f.getFloat(attnKey) : 1f; // llama.cpp's default when the key is absent
        if (!(attn > 0) || !Float.isFinite(attn)) throw new GgufException(file + ": metadata " + attnKey + " = " + attn + " must be positive");
        return new LongRope(longF, shortF, orig, attn);
    }

    private static float[] floats(GgufFile f, GgufTensorInfo t, int half) {
        if (t.type() != GgmlType.F32) {
            throw new GgufException(f.path() + ": tensor " + t.name() + " has type " + t.typeName() + ", expected F32");
        }
        float[] v = new float[(int) Math.min(t.elements(), Integer.MAX_VALUE)];
        MemorySegment.copy(t.data(), F32, 0, v, 0, v.length);
        String p = problem(v, half);
        if (p != null) throw new GgufException(f.path() + ": tensor " + t.name() + " " + p);
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LongRope r && Arrays.equals(longFactors, r.longFactors) && Arrays.equals(shortFactors, r.shortFactors)
                && originalContext == r.originalContext && Float.compare(attnFactor, r.attnFactor) == 0;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(longFactors) * 31 + Arrays.hashCode(shortFactors) + originalContext * 17 + Float.hashCode(attnFactor);
    }

    @Override
    public String toString() {
        return "LongRope[original " + originalContext + ", attention factor " + attnFactor + ", long " + Arrays.toString(longFactors)
                + ", short " + Arrays.toString(shortFactors) + "]";
    }
}

package io.chorus.model;

import io.chorus.model.gguf.GgufException;
import io.chorus.model.gguf.GgufFile;
import java.util.Locale;

/**
 * Rope scaling by one factor for the whole model, as llama.cpp b4748 applies GGUF's
 * {@code ARCH.rope.scaling.*} keys (and transformers a config.json {@code rope_scaling} of type yarn):
 *
 * <ul>
 * <li><b>linear</b>: every pair's frequency times 1 / factor (llama.cpp's freq_scale); positions are
 *     interpolated into the trained range.
 * <li><b>yarn</b>: pair i keeps its frequency (extrapolates) below {@code corrDims[0]}, is divided by the
 *     factor (interpolates) above {@code corrDims[1]}, and blends linearly between; the correction dims
 *     are the pairs that turn {@code betaFast} (32) and {@code betaSlow} (1) times over the original
 *     context. cos and sin are multiplied by 1 + 0.1 ln(factor).
 * </ul>
 *
 * Either way cos and sin are also multiplied by the checkpoint's attention factor
 * ({@code rope.scaling.attn_factor}); {@link #mscale} is the product. The rotation stays per pair and
 * per position, as rope's own: it composes with Llama 3's rope_freqs and longrope's factors, which
 * divide the frequency first.
 *
 * @param yarn            yarn when true, linear when false
 * @param factor          context growth ({@code rope.scaling.factor}); the frequency scale is 1 / factor
 * @param originalContext the context the factor grows from ({@code rope.scaling.original_context_length}); yarn's corr dims come from it
 * @param betaFast        yarn: rotations over the original context above which a pair extrapolates (32)
 * @param betaSlow        yarn: rotations below which a pair interpolates (1)
 * @param mscale          multiplies cos and sin: the attention factor, times yarn's 1 + 0.1 ln(factor)
 */
public record RopeScaling(boolean yarn, float factor, int originalContext, float betaFast, float betaSlow, float mscale) {
    /** llama.cpp's and transformers' yarn defaults. */
    public static final float BETA_FAST = 32f, BETA_SLOW = 1f;

    /** Yarn's magnitude correction for a context growth of {@code factor}, in float32 as llama.cpp computes it. */
    public static float yarnMscale(float factor) {
        return 1.0f + 0.1f * (float) Math.log(factor);
    }

    /** The first and last pair index of yarn's blend (llama.cpp's corr_dims), for {@code rotDim} rotated dimensions. */
    public float[] corrDims(int rotDim, float theta) {
        float start = (float) Math.floor(corrDim(rotDim, betaFast, theta)), end = (float) Math.ceil(corrDim(rotDim, betaSlow, theta));
        return new float[] {Math.max(0, start), Math.min(rotDim - 1, end)};
    }

    /**
     * The (fractional) pair index whose frequency turns {@code rotations} times over the original context,
     * in float32 as llama.cpp computes it, so floor and ceil land on the same pairs.
     */
    private float corrDim(int rotDim, float rotations, float theta) {
        float ratio = originalContext / (rotations * 2 * (float) Math.PI);
        return rotDim * (float) Math.log(ratio) / (2 * (float) Math.log(theta));
    }

    /**
     * What pair i's frequency is multiplied by: 1 / factor for linear; for yarn the blend
     * (1 - mix) / factor + mix, mix = 1 below the first corr dim, 0 above the last.
     */
    public double frequencyMultiplier(int pair, int rotDim, float theta) {
        double interp = 1.0 / factor;
        if (!yarn) return interp;
        float[] corr = corrDims(rotDim, theta);
        double y = (pair - corr[0]) / Math.max(0.001f, corr[1] - corr[0]);
        double mix = 1 - Math.min(1, Math.max(0, y));
        return interp * (1 - mix) + mix;
    }

    /** The context a model with this scaling is meant to serve: yarn's original context times the factor when larger. */
    public int scaledContext(int context) {
        return yarn ? (int) Math.max(context, Math.min(Integer.MAX_VALUE, (long) originalContext * factor)) : context;
    }

    /** One line for logs and {@code chorus info}: "yarn factor 4 from original context 32768, attention factor 1.14". */
    public String describe() {
        String f = factor == Math.rint(factor) ? Integer.toString((int) factor) : Float.toString(factor);
        return String.format(Locale.ROOT, "%s factor %s%s, attention factor %.2f", yarn ? "yarn" : "linear", f,
                yarn ? " from original context " + originalContext : "", mscale);
    }

    /**
     * The GGUF's scaling as llama.cpp reads it, or null when it changes nothing (no type or {@code none},
     * or linear by 1, and no attention factor other than 1). The type defaults to linear, the factor to 1
     * (also under the older key {@code rope.scale_linear}), the original context to the file's context. A
     * {@code longrope} type is longrope's factor tensors' business ({@link LongRope}, which also owns the
     * attention factor when they are present).
     *
     * @param context  the file's {@code context_length}
     * @param longRope whether the file has longrope's factor tensors
     * @throws UnsupportedModelException naming the file and the key for a type Chorus does not run
     * @throws GgufException naming the file and the key for a malformed value
     */
    static RopeScaling fromGguf(GgufFile f, String arch, int context, boolean longRope) {
        String file = f.path().toString();
        String p = arch + ".rope.";
        String typeKey = p + "scaling.type", factorKey = p + "scaling.factor", origKey = p + "scaling.original_context_length",
                attnKey = p + "scaling.attn_factor";
        String type = f.has(typeKey) ? f.getString(typeKey, null) : "linear";
        if (type == null) throw new GgufException(file + ": metadata " + typeKey + " should be a string");
        boolean yarn;
        switch (type) {
            case "linear" -> yarn = false;
            case "yarn" -> yarn = true;
            case "none" -> { return attnOnly(f, attnKey, context, longRope); } // llama.cpp never scales with type none
            case "longrope" -> {
                if (!longRope) {
                    throw new GgufException(file + ": metadata " + typeKey + " = 'longrope' without tensors " + LongRope.LONG_TENSOR
                            + " and " + LongRope.SHORT_TENSOR);
                }
                yarn = false;
            }
            default -> throw new UnsupportedModelException(file + ": metadata " + typeKey + " = '" + type
                    + "' is not supported (supported: none, linear, yarn, longrope)");
        }
        String usedKey = f.has(factorKey) || !f.has(p + "scale_linear") ? factorKey : p + "scale_linear";
        float factor = f.has(usedKey) ? f.getFloat(usedKey) : 0f;
        if (factor == 0f) factor = 1f; // llama.cpp: 0 or absent means unscaled
        if (!(factor > 0) || !Float.isFinite(factor)) throw new GgufException(file + ": metadata " + usedKey + " = " + factor + " must be positive");
        if (yarn && factor < 1) throw new GgufException(file + ": metadata " + usedKey + " = " + factor + " must be at least 1 for yarn");
        int orig = f.getInt(origKey, context);
        if (orig <= 0) throw new GgufException(file + ": metadata " + origKey + " = " + orig + " must be positive");
        float attn = longRope ? 1f : attnFactor(f, attnKey);
        if (!yarn && factor == 1f && attn == 1f) return null;
        return new RopeScaling(yarn, factor, orig, BETA_FAST, BETA_SLOW, yarn ? attn * yarnMscale(factor) : attn);
    }

    private static RopeScaling attnOnly(GgufFile f, String attnKey, int context, boolean longRope) {
        float attn = longRope ? 1f : attnFactor(f, attnKey);
        return attn == 1f ? null : new RopeScaling(false, 1f, context, BETA_FAST, BETA_SLOW, attn);
    }

    private static float attnFactor(GgufFile f, String key) {
        float a = f.getFloat(key, 1f);
        if (!(a > 0) || !Float.isFinite(a)) throw new GgufException(f.path() + ": metadata " + key + " = " + a + " must be positive");
        return a;
    }
}

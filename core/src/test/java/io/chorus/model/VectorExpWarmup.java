package io.chorus.model;

import io.chorus.tensor.Kernels;

/**
 * Gets {@link Kernels#swiglu} compiled before a test compares two forward passes bit for bit: its
 * vector exp gives results that differ in the last bit once C2 has compiled it (the interpreter's
 * lane-by-lane fallback and the compiled vector routine round differently), so a comparison that
 * straddles the compilation would see a difference that batching did not cause. Measured: the
 * change comes after about 500 calls over 1024 values.
 */
final class VectorExpWarmup {
    private VectorExpWarmup() {}

    static void run() {
        float[] g = new float[1024], u = new float[1024], out = new float[1024];
        for (int i = 0; i < g.length; i++) {
            g[i] = (i - 512) / 64f;
            u[i] = 1f;
        }
        for (int i = 0; i < 5000; i++) Kernels.swiglu(out, 0, g, 0, u, 0, g.length);
    }
}

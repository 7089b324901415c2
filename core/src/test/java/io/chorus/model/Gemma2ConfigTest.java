package io.chorus.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The Gemma 2 switches that the fixtures (2 layers, head dim = dim / heads) cannot tell apart. */
class Gemma2ConfigTest {
    @Test
    void queryScaleFollowsLlamaCppPerModelSize() {
        // 2B and 9B: 1/sqrt(head dim); 27B (46 layers, head dim 128, dim / heads 144): 1/sqrt(144)
        assertThat(ModelConfig.queryScale(Architecture.GEMMA2, 2304, 8, 256, 26)).isEqualTo(1f / 16);
        assertThat(ModelConfig.queryScale(Architecture.GEMMA2, 3584, 16, 256, 42)).isEqualTo(1f / 16);
        assertThat(ModelConfig.queryScale(Architecture.GEMMA2, 4608, 32, 128, 46)).isEqualTo((float) (1 / 12.0));
        // any other architecture with the same numbers keeps 1/sqrt(head dim)
        assertThat(ModelConfig.queryScale(Architecture.LLAMA, 4608, 32, 128, 46)).isEqualTo((float) (1 / Math.sqrt(128)));
    }

    @Test
    void evenLayersAreWindowed() {
        assertThat(Architecture.GEMMA2.slidingWindowLayer(0)).isTrue();
        assertThat(Architecture.GEMMA2.slidingWindowLayer(1)).isFalse();
        assertThat(Architecture.GEMMA2.slidingWindowLayer(24)).isTrue();
        assertThat(Architecture.GEMMA2.slidingWindowLayer(25)).isFalse();
        // Phi-3 and the llama layout (Mistral) window every layer when the model has a window; the others none
        assertThat(Architecture.PHI3.slidingWindowLayer(0)).isTrue();
        assertThat(Architecture.PHI3.slidingWindowLayer(1)).isTrue();
        assertThat(Architecture.LLAMA.slidingWindowLayer(1)).isTrue();
        assertThat(Architecture.QWEN2.slidingWindowLayer(0)).isFalse();
        assertThat(Architecture.QWEN3.slidingWindowLayer(0)).isFalse();
    }
}

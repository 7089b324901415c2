package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.engine.api.SamplingParams;
import io.chorus.model.checkpoint.GenerationDefaults;
import org.junit.jupiter.api.Test;

/** A model's generation_config.json values fill the sampling fields a request leaves out, and only those. */
class GenerationDefaultsParamsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final GenerationDefaults QWEN = new GenerationDefaults(0.7, 0.8, 20, 0.05, 1.05);

    @Test
    void defaultsFillOmittedFields() throws Exception {
        SamplingParams p = Params.sampling(JSON.readTree("{}"), 512, QWEN).maxTokens(4).build();
        assertThat(new double[] {p.temperature(), p.topP(), p.minP(), p.repetitionPenalty()}).containsExactly(0.7, 0.8, 0.05, 1.05);
        assertThat(p.topK()).isEqualTo(20);
    }

    @Test
    void requestFieldsWin() throws Exception {
        SamplingParams p = Params.sampling(JSON.readTree("{\"temperature\": 0, \"top_k\": 5, \"top_p\": 1}"), 512, QWEN).maxTokens(4).build();
        assertThat(p.temperature()).isEqualTo(0.0);
        assertThat(p.topK()).isEqualTo(5);
        assertThat(p.topP()).isEqualTo(1.0);
        assertThat(p.repetitionPenalty()).isEqualTo(1.05);
    }

    @Test
    void withoutDefaultsTheBuilderDefaultsStay() throws Exception {
        SamplingParams p = Params.sampling(JSON.readTree("{}"), 512, GenerationDefaults.NONE).maxTokens(4).build();
        assertThat(new double[] {p.temperature(), p.topP(), p.minP(), p.repetitionPenalty()}).containsExactly(1.0, 1.0, 0.0, 1.0);
        assertThat(p.topK()).isEqualTo(-1);
    }
}

package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;
import io.chorus.testing.Fixtures;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The quantizers that follow llama.cpp's reference ones write exactly the bytes llama-quantize
 * wrote for the fixture models, which were quantized from the weights of llama-f32 (README §3).
 */
class QuantizerFixtureTest {

    @ParameterizedTest
    @CsvSource({"llama-q2_k, Q2_K", "llama-q3_k_s, Q3_K", "llama-iq4_xs, IQ4_XS"})
    void quantizerWritesLlamaQuantizeBytes(String model, GgmlType type) {
        try (GgufFile f32 = GgufFile.open(Fixtures.require("models/llama-f32.gguf"));
             GgufFile q = GgufFile.open(Fixtures.require("models/" + model + ".gguf"))) {
            int checked = 0;
            for (GgufTensorInfo t : q.tensors().values()) {
                if (t.type() != type) continue;
                float[] x = f32.tensor(t.name()).data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
                byte[] expected = t.data().toArray(ValueLayout.JAVA_BYTE);
                assertThat(Quantizer.quantize(type, x)).as(model + " " + t.name()).isEqualTo(expected);
                checked++;
            }
            assertThat(checked).as("tensors of type " + type).isGreaterThanOrEqualTo(6);
        }
    }
}

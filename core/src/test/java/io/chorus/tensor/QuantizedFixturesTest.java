package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.chorus.model.gguf.GgufFile;
import io.chorus.model.gguf.GgufTensorInfo;
import io.chorus.testing.Fixtures;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reference models' quantized tensors (shared/fixtures/models, written by llama-quantize from
 * llama-f32's weights without an importance matrix): Quantizer writes the same bytes from the same
 * floats, and the Java decoder, the native decoder and the scalar reference read them identically.
 */
class QuantizedFixturesTest {

    @ParameterizedTest
    @CsvSource({"llama-q4_1, Q4_1, 15", "llama-q5_0, Q5_0, 15", "llama-q5_1, Q5_1, 15", "llama-iq4_nl, IQ4_NL, 15",
            "llama-q2_k, Q2_K, 15", "llama-iq4_xs, IQ4_XS, 15", "llama-q3_k_s, Q3_K, 14"})
    void quantizerAndDecodersMatchTheFixture(String model, GgmlType type, int tensors) {
        Path quant = Fixtures.require("models/" + model + ".gguf");
        Path f32 = Fixtures.require("models/llama-f32.gguf");
        int checked = 0;
        try (GgufFile q = GgufFile.open(quant); GgufFile src = GgufFile.open(f32)) {
            for (GgufTensorInfo t : q.tensors().values()) {
                if (t.dims().length != 2) continue;
                if (tensors < 15 && t.type() != type) continue; // a mix: only the tensors of this type
                assertThat(t.type()).as(t.name()).isEqualTo(type); // a --pure file: every matrix has the type
                int cols = (int) t.dims()[0], rows = (int) t.dims()[1];
                byte[] bytes = t.data().toArray(ValueLayout.JAVA_BYTE);
                float[] original = src.tensor(t.name()).data()
                        .toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                assertThat(Quantizer.quantize(type, original)).as("%s %s bytes", model, t.name()).isEqualTo(bytes);

                float[] ref = ReferenceKernels.dequantize(type, bytes, rows * cols);
                WeightMatrix w = WeightMatrix.of(t.name(), type, t.data(), rows, cols);
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    w.dequantizeRow(r, row, 0);
                    for (int c = 0; c < cols; c++) {
                        if (Float.floatToRawIntBits(row[c]) != Float.floatToRawIntBits(ref[r * cols + c])) {
                            fail(t.name() + " Java decoder row " + r + " col " + c + ": " + row[c] + " != " + ref[r * cols + c]);
                        }
                    }
                }
                if (NativeKernels.supports(type)) assertNativeDecodes(w, ref);
                checked++;
            }
        }
        assertThat(checked).as("2-D tensors checked").isEqualTo(tensors); // 7 per layer, 2 layers, token_embd
    }

    /**
     * The native kernel times the identity (token t = unit vector e_t) yields column t of W: every
     * other product is a signed zero, so the float sums are exact and out[t][r] == W[r][t].
     */
    private static void assertNativeDecodes(WeightMatrix w, float[] ref) {
        int rows = w.rows(), cols = w.cols();
        float[] x = new float[cols * cols];
        for (int t = 0; t < cols; t++) x[t * cols + t] = 1f;
        float[] out = new float[cols * rows];
        NativeKernels.matmul(w, x, cols, out, rows, 0, rows);
        for (int t = 0; t < cols; t++) {
            for (int r = 0; r < rows; r++) {
                float e = ref[r * cols + t], got = out[t * rows + r];
                if (e != got) assertEquals(e, got, 0f, w.name() + " native decoder row " + r + " col " + t);
            }
        }
    }
}

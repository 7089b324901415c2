package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.model.SyntheticModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up says which longrope factors the server's max-model-len picked (the tiny phi3: original context 512). */
class LongRopeStartupTest {
    @Test
    void summaryNamesTheFactorsTheMaxModelLenPicks(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("p.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-phi3-longrope"), SyntheticModel.Mix.F16, 1, model);
        ServeOptions o = ServeOptions.defaults().withModel(model).withThreads(1).withKvCacheMemory(8L << 20);
        try (LoadedModel m = LoadedModel.load(o.withMaxModelLen(1024), false)) {
            assertThat(m.summary()).contains("\nrope: long factors (context 1024 > original 512), attention factor 1.11\n");
        }
        try (LoadedModel m = LoadedModel.load(o.withMaxModelLen(512), false)) {
            assertThat(m.summary()).contains("\nrope: short factors (context 512 <= original 512), attention factor 1.11\n");
        }
        try (LoadedModel m = LoadedModel.load(o.withModel(null).withMaxModelLen(512), false)) {
            assertThat(m.summary()).doesNotContain("rope:"); // the demo model (qwen2) has no longrope
        }
    }
}

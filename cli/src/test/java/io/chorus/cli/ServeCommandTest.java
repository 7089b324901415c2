package io.chorus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.server.ServeOptions;
import io.chorus.tensor.ActivationPrecision;
import io.chorus.tensor.KvCacheDtype;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ServeCommandTest {
    static ServeOptions parse(String... args) {
        ServeCommand c = new ServeCommand();
        new CommandLine(c).parseArgs(args);
        return c.options();
    }

    @Test
    void defaultsFollowVllm() {
        ServeOptions o = parse();
        assertThat(o.model()).isNull();
        assertThat(o.port()).isEqualTo(8000);
        assertThat(o.maxNumSeqs()).isEqualTo(64);
        assertThat(o.maxNumBatchedTokens()).isEqualTo(2048);
        assertThat(o.memoryUtilization()).isEqualTo(0.5);
        assertThat(o.blockSize()).isEqualTo(16);
        assertThat(o.enablePrefixCaching()).isTrue();
        assertThat(o.kvCacheDtype()).isEqualTo(KvCacheDtype.F16);
        assertThat(o.schedulingPolicy()).isEqualTo(SchedulingPolicy.FCFS);
        assertThat(o.maxQueue()).isNull();
        assertThat(o.activationPrecision()).isEqualTo(ActivationPrecision.auto());
    }

    @Test
    void activationPrecisionParsesAndRefusesUnknownValues() {
        assertThat(parse("--activation-precision", "f32").activationPrecision()).isEqualTo(ActivationPrecision.F32);
        assertThat(parse("--activation-precision", "INT8").activationPrecision()).isEqualTo(ActivationPrecision.INT8);
        assertThat(ServeOptions.defaults().withActivationPrecision(ActivationPrecision.F32).withPort(1).activationPrecision())
                .isEqualTo(ActivationPrecision.F32);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> parse("--activation-precision", "bf16"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auto, int8 or f32");
    }

    @Test
    void everyKnobParses() {
        ServeOptions o = parse("--model", "m.gguf", "--host", "0.0.0.0", "--port", "9000", "--served-model-name", "m",
                "--api-key", "k", "--max-num-seqs", "8", "--max-num-batched-tokens", "512", "--max-model-len", "1024",
                "--gpu-memory-utilization", "0.7", "--kv-cache-memory", "2G", "--block-size", "32", "--no-enable-prefix-caching",
                "--kv-cache-dtype", "f32", "--threads", "3", "--chat-template", "t.jinja", "--max-queue", "5",
                "--scheduling-policy", "priority");
        assertThat(o.model()).isEqualTo(Path.of("m.gguf"));
        assertThat(o.host()).isEqualTo("0.0.0.0");
        assertThat(o.port()).isEqualTo(9000);
        assertThat(o.servedModelName()).isEqualTo("m");
        assertThat(o.apiKey()).isEqualTo("k");
        assertThat(o.maxNumSeqs()).isEqualTo(8);
        assertThat(o.maxNumBatchedTokens()).isEqualTo(512);
        assertThat(o.maxModelLen()).isEqualTo(1024);
        assertThat(o.memoryUtilization()).isEqualTo(0.7);
        assertThat(o.kvCacheMemory()).isEqualTo(2L << 30);
        assertThat(o.blockSize()).isEqualTo(32);
        assertThat(o.enablePrefixCaching()).isFalse();
        assertThat(o.kvCacheDtype()).isEqualTo(KvCacheDtype.F32);
        assertThat(o.threads()).isEqualTo(3);
        assertThat(o.chatTemplate()).isEqualTo(Path.of("t.jinja"));
        assertThat(o.maxQueue()).isEqualTo(5);
        assertThat(o.schedulingPolicy()).isEqualTo(SchedulingPolicy.PRIORITY);
        assertThat(parse("--memory-utilization", "0.3").memoryUtilization()).isEqualTo(0.3);
        assertThat(parse("--enable-prefix-caching").enablePrefixCaching()).isTrue();
    }

    @Test
    void shutdownFlagsParseAndRefuseNegativeSeconds() {
        ServeCommand c = new ServeCommand();
        new CommandLine(c).parseArgs();
        assertThat(c.shutdownDelay).isEqualTo(5);
        assertThat(c.options().shutdownGrace()).isEqualTo(java.time.Duration.ofSeconds(30));
        c = new ServeCommand();
        new CommandLine(c).parseArgs("--shutdown-delay", "12", "--shutdown-grace", "45");
        assertThat(c.shutdownDelay).isEqualTo(12);
        assertThat(c.options().shutdownGrace()).isEqualTo(java.time.Duration.ofSeconds(45));
        ServeCommand bad = new ServeCommand();
        new CommandLine(bad).parseArgs("--shutdown-delay", "-1");
        org.assertj.core.api.Assertions.assertThatThrownBy(bad::options).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--shutdown-delay");
    }

    @Test
    void corsTaskAndPoolingFlagsParse() {
        ServeOptions o = parse();
        assertThat(o.allowedOrigins()).isEmpty();
        assertThat(o.task()).isEqualTo(ServeOptions.Task.GENERATE);
        assertThat(o.pooling()).isNull();
        o = parse("--allowed-origins", "http://localhost:3000,https://app.example", "--task", "embed", "--pooling", "LAST");
        assertThat(o.allowedOrigins()).containsExactly("http://localhost:3000", "https://app.example");
        assertThat(o.task()).isEqualTo(ServeOptions.Task.EMBED);
        assertThat(o.pooling()).isEqualTo(io.chorus.engine.api.Pooling.LAST);
        assertThat(parse("--allowed-origins", "*").allowedOrigins()).containsExactly("*");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> parse("--task", "classify"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--task must be generate or embed");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> parse("--pooling", "max"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--pooling must be mean, last or cls");
    }
}

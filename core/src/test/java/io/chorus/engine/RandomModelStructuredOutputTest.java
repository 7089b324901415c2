package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import io.chorus.engine.api.EngineConfig;
import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.FinishReason;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.api.SamplingParams;
import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.runner.TemperatureSampler;
import io.chorus.model.Model;
import io.chorus.model.SyntheticModel;
import io.chorus.structured.GrammarSpec;
import io.chorus.structured.TokenVocabulary;
import io.chorus.tensor.KvCacheDtype;
import io.chorus.tensor.WorkerPool;
import io.chorus.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hardest case for structured output: a random-weight model (it never writes JSON by itself) at
 * temperature 1.0. 200 seeded requests over 24 schemas, 16 at a time, plus choice and regex
 * requests: every output must end with EOS (finish_reason "stop") and validate against its schema
 * with an independent validator (networknt, draft 2020-12, format assertions on). The schemas bound
 * every string so a model that picks characters at random closes them within the token budget.
 */
class RandomModelStructuredOutputTest {
    @TempDir static Path dir;

    static final List<String> SCHEMAS = List.of(
            """
            {"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer","minimum":0,"maximum":120}},
             "required":["name","age"],"additionalProperties":false}""",
            """
            {"enum":["red","green","blue"]}""",
            """
            {"type":["boolean","null"]}""",
            """
            {"type":"array","items":{"type":"integer","minimum":-50,"maximum":50},"minItems":1,"maxItems":4}""",
            """
            {"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer","minimum":1},
             "tags":{"type":"array","items":{"enum":["a","b","c"]},"maxItems":3}},"required":["id","tags"],"additionalProperties":false},
             "active":{"type":"boolean"}},"required":["user","active"],"additionalProperties":false}""",
            """
            {"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":9},"b":{"type":"boolean"},"c":{"type":"null"}},
             "additionalProperties":false}""",
            """
            {"anyOf":[{"type":"string","maxLength":5},{"type":"integer","minimum":100,"maximum":999}]}""",
            """
            {"oneOf":[{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"integer","minimum":1,"maximum":10}},
             "required":["kind","r"],"additionalProperties":false},
             {"type":"object","properties":{"kind":{"const":"square"},"side":{"type":"integer","minimum":1,"maximum":10}},
             "required":["kind","side"],"additionalProperties":false}]}""",
            """
            {"$defs":{"point":{"type":"object","properties":{"x":{"type":"integer","minimum":-9,"maximum":9},
             "y":{"type":"integer","minimum":-9,"maximum":9}},"required":["x","y"],"additionalProperties":false}},
             "type":"object","properties":{"from":{"$ref":"#/$defs/point"},"to":{"$ref":"#/$defs/point"}},"required":["from","to"],
             "additionalProperties":false}""",
            """
            {"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer","minimum":0,"maximum":9},
             "next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"],"additionalProperties":false}},
             "$ref":"#/$defs/node"}""",
            """
            {"type":"object","properties":{"on":{"type":"string","format":"date"}},"required":["on"],"additionalProperties":false}""",
            """
            {"type":"string","format":"date-time"}""",
            """
            {"type":"object","properties":{"id":{"type":"string","format":"uuid"}},"required":["id"],"additionalProperties":false}""",
            """
            {"type":"string","format":"email"}""",
            """
            {"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2}$"}},"required":["code"],"additionalProperties":false}""",
            """
            {"type":"integer","exclusiveMinimum":-1000,"exclusiveMaximum":-10}""",
            """
            {"type":"object","properties":{"price":{"type":"number","minimum":0},"qty":{"type":"integer"}},"required":["price","qty"],
             "additionalProperties":false}""",
            """
            {"type":"array","prefixItems":[{"type":"string","maxLength":4},{"type":"integer","minimum":0,"maximum":3},{"type":"boolean"}],
             "items":false,"minItems":3}""",
            """
            {"type":"array","items":{"type":"object","properties":{"k":{"enum":["x","y"]},"n":{"type":"integer","minimum":0,"maximum":99}},
             "required":["k","n"],"additionalProperties":false},"maxItems":2}""",
            """
            {"type":"object","properties":{"version":{"const":2},"mode":{"const":"fast"}},"required":["version","mode"],"additionalProperties":false}""",
            """
            {"type":"object","properties":{"word":{"type":"string","minLength":3,"maxLength":6}},"required":["word"],"additionalProperties":false}""",
            """
            {"enum":[1,"one",true,null,{"n":1},[1]]}""",
            """
            {"type":"object","properties":{"l1":{"type":"object","properties":{"l2":{"type":"object","properties":{"l3":{"type":"object",
             "properties":{"leaf":{"type":"integer","minimum":0,"maximum":5}},"required":["leaf"],"additionalProperties":false}},
             "required":["l3"],"additionalProperties":false}},"required":["l2"],"additionalProperties":false}},"required":["l1"],
             "additionalProperties":false}""",
            """
            {"type":"object","properties":{"score":{"type":"number"},"ok":{"type":"boolean"},"note":{"type":["string","null"],"maxLength":6}},
             "required":["score","ok","note"],"additionalProperties":false}""");

    private record Job(String id, GrammarSpec spec, String schema, EngineRequest request) {}

    @Test
    void twoHundredRandomModelOutputsAllValidate() throws Exception {
        Path file = dir.resolve("tiny-qwen2.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 23, file);
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
                b -> b.schemaRegistryConfig(SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));
        try (WorkerPool pool = new WorkerPool(2); Model model = Model.load(file, pool)) {
            Tokenizer tok = Tokenizer.of(model.checkpoint());
            List<Integer> eos = new ArrayList<>();
            for (int id = 0; id < tok.vocabSize(); id++) if (tok.isEog(id)) eos.add(id);
            model.allocateKvCache(1024, 16, KvCacheDtype.F32, 1024);
            EngineConfig cfg = new EngineConfig(16, 512, 1024, true, SchedulingPolicy.FCFS, eos);
            EngineLoop loop = Engine.create(cfg, model, new TemperatureSampler(), TokenVocabulary.of(tok));

            List<Job> jobs = new ArrayList<>();
            SplittableRandom r = new SplittableRandom(2026);
            for (int i = 0; i < 200; i++) {
                String schema = SCHEMAS.get(i % SCHEMAS.size());
                jobs.add(job("s" + i, GrammarSpec.jsonSchema(schema), schema, i, r));
            }
            for (int i = 0; i < 12; i++) {
                jobs.add(job("c" + i, GrammarSpec.choice(List.of("yes", "no", "not sure")), null, 1000 + i, r));
                jobs.add(job("x" + i, GrammarSpec.regex("(\\+1 )?\\(\\d{3}\\) \\d{3}-\\d{4}"), null, 2000 + i, r));
            }
            Map<String, RequestHandle> handles = new LinkedHashMap<>();
            Map<String, List<Integer>> tokens = new LinkedHashMap<>();
            Map<String, RequestOutput> finals = new LinkedHashMap<>();
            for (Job j : jobs) handles.put(j.id(), loop.submit(j.request()));
            for (int guard = 0; loop.step() || loop.hasLiveRequests(); guard++) {
                if (guard > 200_000) throw new AssertionError("engine did not finish");
                drain(handles, tokens, finals);
            }
            drain(handles, tokens, finals);

            int validated = 0;
            for (Job j : jobs) {
                RequestOutput last = finals.get(j.id());
                int[] ids = tokens.get(j.id()).stream().mapToInt(Integer::intValue).toArray();
                String text = tok.decode(ids, true);
                assertThat(last.finishReason()).as("%s: %s", j.id(), text).isEqualTo(FinishReason.STOP);
                assertThat(eos).as(j.id()).contains(ids[ids.length - 1]);
                if (j.schema() != null) {
                    Schema schema = registry.getSchema(j.schema());
                    assertThat(schema.validate(text, InputFormat.JSON)).as("%s: %s against %s", j.id(), text, j.schema()).isEmpty();
                    validated++;
                } else if (j.id().startsWith("c")) {
                    assertThat(text).isIn("yes", "no", "not sure");
                } else {
                    assertThat(Pattern.compile("(\\+1 )?\\(\\d{3}\\) \\d{3}-\\d{4}").matcher(text).matches()).as(text).isTrue();
                }
            }
            assertThat(validated).isEqualTo(200);
            assertThat(loop.scheduler().kv().pool().numFreeBlocks()).isEqualTo(loop.scheduler().kv().pool().numBlocks());
        }
    }

    private static Job job(String id, GrammarSpec spec, String schema, long seed, SplittableRandom r) {
        int[] prompt = new int[3 + r.nextInt(20)];
        for (int k = 0; k < prompt.length; k++) prompt[k] = 5 + r.nextInt(500);
        SamplingParams sp = SamplingParams.builder().temperature(1.0).seed(seed).maxTokens(400).grammar(spec).build();
        return new Job(id, spec, schema, new EngineRequest(id, prompt, sp));
    }

    private static void drain(Map<String, RequestHandle> handles, Map<String, List<Integer>> tokens, Map<String, RequestOutput> finals) {
        for (var e : handles.entrySet()) {
            try {
                for (RequestOutput o; (o = e.getValue().next(Duration.ZERO)) != null; ) {
                    List<Integer> t = tokens.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
                    for (int id : o.newTokenIds()) t.add(id);
                    if (o.finished()) finals.put(e.getKey(), o);
                }
            } catch (TimeoutException empty) {
                // nothing more this step
            } catch (InterruptedException ie) {
                throw new AssertionError(ie);
            }
        }
    }
}

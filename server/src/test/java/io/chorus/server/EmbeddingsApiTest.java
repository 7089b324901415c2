package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import io.chorus.engine.api.Pooling;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** /v1/embeddings with --task embed, spoken to by the OpenAI Java SDK, LangChain4j and plain HTTP. */
class EmbeddingsApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static ChorusServer server;
    static ChorusServer generating;
    static OpenAIClient client;
    static int dim;

    @BeforeAll
    static void up() {
        server = TestServers.start(o -> o.withTask(ServeOptions.Task.EMBED));
        generating = TestServers.start(o -> o);
        client = TestServers.client(server);
        dim = server.model().hiddenSize();
    }

    @AfterAll
    static void down() {
        server.close();
        generating.close();
    }

    static List<Float> floats(float[] v) {
        Float[] boxed = new Float[v.length];
        for (int i = 0; i < v.length; i++) boxed[i] = v[i];
        return List.of(boxed);
    }

    static float[] vector(JsonNode embedding) {
        float[] v = new float[embedding.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) embedding.get(i).asDouble();
        return v;
    }

    static JsonNode post(ChorusServer s, String body, int status) throws Exception {
        HttpResponse<String> r = TestServers.post(s, "/v1/embeddings", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    @Test
    void theOpenAiSdkGetsUnitVectorsInInputOrderEachAsIfAlone() {
        CreateEmbeddingResponse one = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(TestServers.MODEL).input("The lighthouse keeper").build());
        assertThat(one.data()).hasSize(1);
        List<Float> alone = one.data().get(0).embedding();
        assertThat(alone).hasSize(dim);
        double norm = 0;
        for (float f : alone) norm += f * f;
        assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        int promptTokens = server.model().tokenizer().encode("The lighthouse keeper", true, false).length;
        assertThat(one.usage().promptTokens()).isEqualTo(promptTokens);
        assertThat(one.usage().totalTokens()).isEqualTo(promptTokens);
        assertThat(one.model()).isEqualTo(TestServers.MODEL);

        CreateEmbeddingResponse many = client.embeddings().create(EmbeddingCreateParams.builder().model(TestServers.MODEL)
                .inputOfArrayOfStrings(List.of("a storm from the north", "The lighthouse keeper", "tea and bread")).build());
        assertThat(many.data()).extracting(e -> e.index()).containsExactly(0L, 1L, 2L);
        assertThat(many.data().get(1).embedding()).as("batched with others, the same vector").isEqualTo(alone);
        assertThat(many.data().get(0).embedding()).isNotEqualTo(alone);
    }

    @Test
    void langChain4jEmbeddingModelEmbedsTextAndSegments() {
        OpenAiEmbeddingModel lc = OpenAiEmbeddingModel.builder().baseUrl(server.url() + "/v1").apiKey("none")
                .modelName(TestServers.MODEL).maxRetries(0).build();
        float[] v = lc.embed("The lighthouse keeper").content().vector();
        List<Float> sdk = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(TestServers.MODEL).input("The lighthouse keeper").build()).data().get(0).embedding();
        assertThat(floats(v)).isEqualTo(sdk);
        var all = lc.embedAll(List.of(TextSegment.from("one"), TextSegment.from("The lighthouse keeper"))).content();
        assertThat(all).hasSize(2);
        assertThat(floats(all.get(1).vector())).isEqualTo(sdk);
    }

    @Test
    void base64TokenIdsAndDimensions() throws Exception {
        float[] floats = vector(post(server, "{\"input\":\"tea and bread\"}", 200).at("/data/0/embedding"));
        JsonNode b64 = post(server, "{\"input\":\"tea and bread\",\"encoding_format\":\"base64\",\"dimensions\":" + dim + "}", 200);
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(b64.at("/data/0/embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] decoded = new float[bytes.remaining() / 4];
        for (int i = 0; i < decoded.length; i++) decoded[i] = bytes.getFloat();
        assertThat(decoded).containsExactly(floats);

        int[] ids = server.model().tokenizer().encode("tea and bread", true, false);
        StringBuilder idList = new StringBuilder();
        for (int id : ids) idList.append(idList.isEmpty() ? "" : ",").append(id);
        JsonNode byIds = post(server, "{\"input\":[[" + idList + "],[" + idList + "]]}", 200);
        assertThat(vector(byIds.at("/data/1/embedding"))).containsExactly(floats);
        assertThat(byIds.at("/usage/prompt_tokens").asInt()).isEqualTo(2 * ids.length);
        assertThat(vector(post(server, "{\"input\":[" + idList + "]}", 200).at("/data/0/embedding"))).containsExactly(floats);
    }

    @Test
    void badRequestsAreRefused() throws Exception {
        assertThat(post(server, "{\"input\":\"x\",\"dimensions\":16}", 400).at("/error/param").asText()).isEqualTo("dimensions");
        assertThat(post(server, "{\"input\":\"x\",\"encoding_format\":\"int8\"}", 400).at("/error/param").asText()).isEqualTo("encoding_format");
        assertThat(post(server, "{}", 400).at("/error/param").asText()).isEqualTo("input");
        assertThat(post(server, "{\"input\":[]}", 400).at("/error/param").asText()).isEqualTo("input");
        assertThat(post(server, "{\"input\":[99999999]}", 400).at("/error/message").asText()).contains("outside the vocabulary");
        assertThat(post(server, "{\"input\":\"x\",\"model\":\"other\"}", 404).at("/error/code").asText()).isEqualTo("model_not_found");
        assertThat(server.admitted()).isZero();
    }

    @Test
    void eachTaskRefusesTheOthersEndpoints() throws Exception {
        HttpResponse<String> chat = TestServers.post(server, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(chat.statusCode()).isEqualTo(400);
        assertThat(chat.body()).contains("--task embed");
        HttpResponse<String> completion = TestServers.post(server, "/v1/completions", "{\"prompt\":\"hi\",\"stream\":true}");
        assertThat(completion.statusCode()).isEqualTo(400);
        assertThat(post(generating, "{\"input\":\"hi\"}", 400).at("/error/message").asText()).contains("--task embed");
        assertThat(server.admitted()).isZero();
    }

    @Test
    void poolingComesFromTheOptionOrDefaultsToMean() {
        assertThat(server.model().pooling()).isEqualTo(Pooling.MEAN);
        try (ChorusServer last = TestServers.start(o -> o.withTask(ServeOptions.Task.EMBED).withPooling(Pooling.LAST))) {
            assertThat(last.model().pooling()).isEqualTo(Pooling.LAST);
            List<Float> v = TestServers.client(last).embeddings().create(EmbeddingCreateParams.builder()
                    .model(TestServers.MODEL).input("The lighthouse keeper").build()).data().get(0).embedding();
            List<Float> mean = client.embeddings().create(EmbeddingCreateParams.builder()
                    .model(TestServers.MODEL).input("The lighthouse keeper").build()).data().get(0).embedding();
            assertThat(v).hasSize(dim).isNotEqualTo(mean);
        }
    }
}

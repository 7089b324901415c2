package io.chorus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.chorus.model.SyntheticModel;
import io.chorus.server.ChorusServer;
import io.chorus.server.LoadedModel;
import io.chorus.server.ServeOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/k8s/*.yaml parsed, and every field that must agree checked against the code's own values
 * (serve's flags and defaults, the routes and metrics a live server exposes) and across manifests.
 */
class KubernetesManifestsTest {
    private static final List<JsonNode> DOCS = new ArrayList<>();
    private static JsonNode adapterValues;

    @BeforeAll
    static void parse() throws Exception {
        YAMLMapper yaml = new YAMLMapper();
        try (Stream<Path> files = Files.list(DeployFiles.root().resolve("deploy/k8s"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                if (f.getFileName().toString().equals("prometheus-adapter-values.yaml")) {
                    adapterValues = yaml.readTree(f.toFile());
                    continue;
                }
                try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(f.toFile())) {
                    while (it.hasNext()) {
                        JsonNode d = it.next();
                        assertThat(d.path("apiVersion").asText()).as(f + " apiVersion").isNotEmpty();
                        assertThat(d.path("kind").asText()).as(f + " kind").isNotEmpty();
                        assertThat(d.at("/metadata/name").asText()).as(f + " name").isNotEmpty();
                        DOCS.add(d);
                    }
                }
            }
        }
        assertThat(adapterValues).as("prometheus-adapter-values.yaml").isNotNull();
    }

    private static JsonNode kind(String kind) {
        List<JsonNode> l = DOCS.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
        assertThat(l).as(kind).hasSize(1);
        return l.getFirst();
    }

    private static JsonNode container() {
        JsonNode cs = kind("Deployment").at("/spec/template/spec/containers");
        assertThat(cs.size()).isEqualTo(1);
        return cs.get(0);
    }

    private static List<String> args() {
        List<String> a = new ArrayList<>();
        container().path("args").forEach(n -> a.add(n.asText()));
        assertThat(a.getFirst()).isEqualTo("serve");
        return a.subList(1, a.size());
    }

    /** The container's args, parsed by serve itself: an unknown flag or a bad value throws. */
    private static ServeCommand serve() {
        return DeployFiles.parseServe(args());
    }

    private static void assertSelects(JsonNode selector, String what) {
        JsonNode podLabels = kind("Deployment").at("/spec/template/metadata/labels");
        assertThat(selector.size()).as(what + " selects something").isPositive();
        for (Iterator<Map.Entry<String, JsonNode>> it = selector.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            assertThat(podLabels.path(e.getKey()).asText()).as(what + " label " + e.getKey()).isEqualTo(e.getValue().asText());
        }
    }

    private static long quantityBytes(String q) {
        return Units.parseBytes(q.endsWith("i") ? q.substring(0, q.length() - 1) : q);
    }

    @Test
    void everyManifestIsOfAKnownKind() {
        assertThat(DOCS.stream().map(d -> d.path("kind").asText()).sorted().toList()).containsExactly(
                "Deployment", "HTTPRoute", "HorizontalPodAutoscaler", "InferenceModel", "InferencePool", "PodMonitor", "Service");
    }

    @Test
    void theContainerArgsAreServeFlagsAndThePortsAgreeEverywhere() {
        ServeCommand serve = serve();
        assertThat(serve.port).isEqualTo(DeployFiles.defaultInt("--port"));
        assertThat(serve.host).isEqualTo("0.0.0.0");
        assertThat(serve.model.toString()).startsWith(container().at("/volumeMounts/0/mountPath").asText() + "/");
        JsonNode port = container().at("/ports/0");
        assertThat(port.path("containerPort").asInt()).isEqualTo(serve.port);
        String portName = port.path("name").asText();
        JsonNode svc = kind("Service");
        assertThat(svc.at("/spec/ports/0/targetPort").asText()).isEqualTo(portName);
        assertThat(svc.at("/spec/ports/0/port").asInt()).isEqualTo(serve.port);
        assertThat(kind("PodMonitor").at("/spec/podMetricsEndpoints/0/port").asText()).isEqualTo(portName);
        assertThat(kind("InferencePool").at("/spec/targetPortNumber").asInt()).isEqualTo(serve.port);
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertThat(container().at("/" + probe + "/httpGet/port").asText()).as(probe).isEqualTo(portName);
        }
    }

    @Test
    void selectorsAndReferencesPointAtTheDeploymentsPods() {
        JsonNode dep = kind("Deployment");
        assertSelects(dep.at("/spec/selector/matchLabels"), "Deployment");
        assertSelects(kind("Service").at("/spec/selector"), "Service");
        assertSelects(kind("PodMonitor").at("/spec/selector/matchLabels"), "PodMonitor");
        assertSelects(kind("InferencePool").at("/spec/selector"), "InferencePool");
        JsonNode target = kind("HorizontalPodAutoscaler").at("/spec/scaleTargetRef");
        assertThat(target.path("kind").asText()).isEqualTo("Deployment");
        assertThat(target.path("name").asText()).isEqualTo(dep.at("/metadata/name").asText());
        String pool = kind("InferencePool").at("/metadata/name").asText();
        assertThat(kind("InferenceModel").at("/spec/poolRef/name").asText()).isEqualTo(pool);
        assertThat(kind("HTTPRoute").at("/spec/rules/0/backendRefs/0/name").asText()).isEqualTo(pool);
        assertThat(kind("HTTPRoute").at("/spec/rules/0/backendRefs/0/kind").asText()).isEqualTo("InferencePool");
        assertThat(kind("InferenceModel").at("/spec/modelName").asText()).isEqualTo(serve().servedModelName);
    }

    @Test
    void theGracePeriodAndTheLivenessBudgetOutlastTheDrain() {
        ServeCommand serve = serve();
        int drain = serve.shutdownDelay + serve.shutdownGrace;
        assertThat(drain).isEqualTo(35);
        JsonNode pod = kind("Deployment").at("/spec/template/spec");
        assertThat(pod.path("terminationGracePeriodSeconds").asInt()).isGreaterThan(drain);
        assertThat(container().has("lifecycle")).as("Chorus drains itself: no preStop hook").isFalse();
        JsonNode live = container().path("livenessProbe");
        assertThat(live.path("periodSeconds").asInt() * live.path("failureThreshold").asInt()).isGreaterThan(drain);
        JsonNode ready = container().path("readinessProbe");
        assertThat(ready.path("periodSeconds").asInt() * ready.path("failureThreshold").asInt()).isLessThan(serve.shutdownDelay);
    }

    @Test
    void runsAsTheImagesUserAndRequestsWeightsPlusCachePlusJvm() {
        JsonNode pod = kind("Deployment").at("/spec/template/spec");
        String imageUser = DeployFiles.dockerfile().stream().filter(i -> i.keyword().equals("USER")).toList().getLast().args();
        assertThat(pod.at("/securityContext/runAsUser").asText()).isEqualTo(imageUser);
        assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();

        long weights = Units.parseBytes(kind("Deployment").at("/spec/template/metadata/annotations/chorus~1model-weights").asText());
        long kv = Units.parseBytes(serve().kvCacheMemory);
        long request = quantityBytes(container().at("/resources/requests/memory").asText());
        assertThat(request).isGreaterThanOrEqualTo(weights + kv + (512L << 20));
        assertThat(quantityBytes(container().at("/resources/limits/memory").asText())).isGreaterThanOrEqualTo(request);
    }

    @Test
    void theHpaScalesOnTheWaitingQueueTheAdapterServes() {
        JsonNode rule = adapterValues.at("/rules/custom/0");
        String series = rule.at("/name/matches").asText();
        assertThat(series).isEqualTo("vllm:num_requests_waiting");
        assertThat(rule.path("seriesQuery").asText()).startsWith(series + "{");
        JsonNode metric = kind("HorizontalPodAutoscaler").at("/spec/metrics/0");
        assertThat(metric.path("type").asText()).isEqualTo("Pods");
        assertThat(metric.at("/pods/metric/name").asText()).isEqualTo(rule.at("/name/as").asText());
    }

    @Test
    void aLiveServerAnswersTheProbesAndExportsTheMetricsTheManifestsName(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny.gguf");
        SyntheticModel.write(SyntheticModel.shape("tiny-qwen2"), SyntheticModel.Mix.Q8_0, 3, model);
        ServeOptions o = ServeOptions.defaults().withModel(model).withPort(0).withServedModelName("tiny")
                .withKvCacheMemory(16L << 20).withThreads(1);
        HttpClient http = HttpClient.newHttpClient();
        try (ChorusServer server = new ChorusServer(o).start()) {
            server.load(() -> LoadedModel.load(o));
            for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                String path = container().at("/" + probe + "/httpGet/path").asText();
                assertThat(path).as(probe).isEqualTo("/health");
                assertThat(get(http, server.url() + path).statusCode()).as(probe).isEqualTo(200);
            }
            HttpResponse<String> metrics = get(http, server.url() + kind("PodMonitor").at("/spec/podMetricsEndpoints/0/path").asText());
            assertThat(metrics.statusCode()).isEqualTo(200);
            // The metrics the adapter, the HPA and the inference pool's endpoint picker read.
            for (String name : List.of(adapterValues.at("/rules/custom/0/name/matches").asText(), "vllm:kv_cache_usage_perc",
                    "vllm:num_requests_running")) {
                assertThat(metrics.body()).as(name).contains("\n" + name + "{model_name=\"tiny\"}");
            }
            assertThat(Files.readString(DeployFiles.root().resolve("deploy/k8s/inference-pool.yaml")))
                    .contains("vllm:num_requests_waiting, vllm:kv_cache_usage_perc and vllm:num_requests_running");
        }
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}

package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The web page in a real headless Chromium: it loads with no console error, a prompt typed into it
 * streams text into the page, the engine panel shows 8 running requests and KV blocks in use while
 * they run and an empty engine after. The engine is held between steps ({@link Gate}), so what the
 * page must show is certain, not a race. Skipped when no Chromium is installed.
 */
class WebPageBrowserTest {
    static final Path SCREENSHOT = Path.of("target", "webpage.png");
    private static final long SEED = 4242;
    private static final String KEY = "sk-page-browser-test";
    private static final String ANSWER = "I am Chorus. Every request you send joins the same batch as everyone else's.";

    @Test
    void chatStreamsIntoThePageAndThePanelFollowsEightConcurrentRequests() throws Exception {
        Path chromium = HeadlessChromium.find().orElse(null);
        assumeTrue(chromium != null, "no Chromium found (apt-get install chromium, or set CHORUS_CHROMIUM): the browser test is skipped");
        Files.createDirectories(Path.of("target"));
        Gate[] gate = new Gate[1];
        ScriptedSampler sampler = new ScriptedSampler();
        LoadedModel.Seams seams = new LoadedModel.Seams(Gate.seams(gate).forward(), sampler, d -> d);
        try (ChorusServer s = TestServers.start(o -> o, seams);
             HeadlessChromium page = HeadlessChromium.launch(chromium, Path.of("target", "chromium.log"));
             HttpClient http = HttpClient.newHttpClient()) {
            List<String> problems = open(page, s);
            page.await("the page to load and poll the engine", "document.readyState === 'complete' && document.getElementById('conn').textContent === 'live'");
            assertThat(page.eval("document.getElementById('running').textContent").asText()).isEqualTo("0");
            assertThat(page.eval("document.getElementById('model').textContent").asText()).isEqualTo(TestServers.MODEL);
            assertThat(page.eval("document.getElementById('kv-total').textContent").asText())
                    .isEqualTo(String.valueOf(s.model().sizing().numBlocks()));

            // A prompt typed into the page streams into it: text shows while the engine is held mid-answer.
            // The seed typed into the knobs selects a scripted answer, so the exact text proves the knob reached the server.
            sampler.script(SEED, ANSWER, s.model().tokenizer());
            page.eval("document.getElementById('temperature').value = '0.7'; document.getElementById('max-tokens').value = '200';"
                    + " document.getElementById('seed').value = '" + SEED + "'; true");
            page.eval("document.getElementById('prompt').focus()");
            page.call("Input.insertText", HeadlessChromium.params().put("text", "Hello! Who are you?"));
            page.eval("document.getElementById('send').click()");
            gate[0].awaitArrivals(1);
            String partial = "";
            for (int steps = 1; partial.isEmpty(); steps++) {
                assertThat(steps).as("steps before the first visible text").isLessThan(64);
                gate[0].allow(1);
                gate[0].awaitArrivals(steps + 1); // the step before has sent its token
                partial = awaitText(page, 500);
            }
            assertThat(page.eval("document.querySelector('.msg.assistant').dataset.state").asText()).isEqualTo("streaming");
            assertThat(page.eval("document.querySelector('.msg.user').textContent").asText()).isEqualTo("Hello! Who are you?");
            gate[0].allow(1_000);
            page.await("the answer to finish", "document.querySelector('.msg.assistant').dataset.state === 'done'");
            gate[0].hold();
            String answer = page.eval("document.querySelector('.msg.assistant .content').textContent").asText();
            assertThat(partial).hasSizeLessThan(ANSWER.length());
            assertThat(answer).isEqualTo(ANSWER);
            assertThat(page.eval("document.getElementById('chat-stats').textContent").asText()).contains("tokens/s").endsWith("finish: stop");

            // Eight concurrent requests from outside the page: the panel shows them running and holding blocks.
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell story number " + k + "\"}],"
                        + "\"max_tokens\":600,\"ignore_eos\":true,\"stream\":true}";
                calls.add(http.sendAsync(TestServers.request(s, "/v1/chat/completions", null).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (int arrived = gate[0].arrivals(); s.model().engine().stats().running() < 8; arrived++) {
                gate[0].allow(1);
                gate[0].awaitArrivals(arrived + 1);
            }
            // Let it run a few hundred steps at a steady pace so the chart has rates to draw, then hold it.
            for (int i = 0; i < 150; i++) {
                gate[0].allow(1);
                Thread.sleep(10);
            }
            gate[0].hold();
            page.await("the panel to show 8 running", "document.getElementById('running').textContent === '8'");
            page.await("8 decoding rows", "document.querySelectorAll('#seq-rows tr[data-phase=decode]').length === 8");
            page.await("a tokens/s sample in the chart", "document.getElementById('gen-rate').textContent !== '-' && parseFloat(document.getElementById('gen-rate').textContent) >= 0");
            assertThat(page.eval("parseInt(document.getElementById('kv-used').textContent)").asInt()).isPositive();
            assertThat(page.eval("document.getElementById('waiting').textContent").asText()).isEqualTo("0");
            page.screenshot(SCREENSHOT);

            gate[0].open();
            for (var c : calls) assertThat(c.get().body()).contains("data: [DONE]");
            page.await("the panel to show 0 running and no block in use",
                    "document.getElementById('running').textContent === '0' && document.getElementById('kv-used').textContent === '0'"
                            + " && document.querySelectorAll('#seq-rows tr').length === 0");
            assertThat(problems).as("console errors and warnings").isEmpty();
        }
    }

    @Test
    void behindAnApiKeyThePageAsksForItKeepsItInTheTabAndRefusesAWrongOne() throws Exception {
        Path chromium = HeadlessChromium.find().orElse(null);
        assumeTrue(chromium != null, "no Chromium found (apt-get install chromium, or set CHORUS_CHROMIUM): the browser test is skipped");
        Files.createDirectories(Path.of("target"));
        try (ChorusServer s = TestServers.start(o -> o.withApiKey(KEY));
             HeadlessChromium page = HeadlessChromium.launch(chromium, Path.of("target", "chromium-key.log"))) {
            List<String> problems = open(page, s);
            page.await("the page to ask for the key", "document.readyState === 'complete' && !document.getElementById('key-form').hidden");
            assertThat(page.eval("document.getElementById('conn').textContent").asText()).isEqualTo("needs key");
            assertThat(problems).as("no request is made before there is a key").isEmpty();

            typeKey(page, "sk-wrong");
            page.await("the wrong key to be refused", "!document.getElementById('key-error').hidden");
            assertThat(page.eval("document.getElementById('key-error').textContent").asText()).isEqualTo("The server did not accept this key.");
            assertThat(page.eval("sessionStorage.getItem('chorus.apiKey')").isNull()).isTrue();

            typeKey(page, KEY);
            page.await("the panel to go live with the key", "document.getElementById('conn').textContent === 'live'");
            assertThat(page.eval("document.getElementById('key-form').hidden").asBoolean()).isTrue();
            assertThat(page.eval("sessionStorage.getItem('chorus.apiKey')").asText()).isEqualTo(KEY);
            assertThat(page.eval("localStorage.length").asInt()).isZero();
            assertThat(page.eval("document.getElementById('model').textContent").asText()).isEqualTo(TestServers.MODEL);
            // The one refused request is the only thing the browser complained about.
            assertThat(problems).hasSize(1).allMatch(p -> p.contains("401"));
        }
    }

    private static void typeKey(HeadlessChromium page, String key) {
        page.eval("document.getElementById('api-key').focus()");
        page.call("Input.insertText", HeadlessChromium.params().put("text", key));
        page.eval("document.getElementById('key-save').click()");
    }

    /** Opens the server's page, recording every console error or warning and uncaught exception it produces. */
    private static List<String> open(HeadlessChromium page, ChorusServer s) {
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        page.onEvent(e -> {
            JsonNode p = e.path("params");
            switch (e.path("method").asText()) {
                case "Runtime.exceptionThrown" -> problems.add("exception: " + p.path("exceptionDetails"));
                case "Runtime.consoleAPICalled" -> {
                    String type = p.path("type").asText();
                    if (type.equals("error") || type.equals("assert") || type.equals("warning")) problems.add("console." + type + ": " + p.path("args"));
                }
                case "Log.entryAdded" -> {
                    String level = p.path("entry").path("level").asText();
                    if (level.equals("error") || level.equals("warning")) problems.add("log " + level + ": " + p.path("entry"));
                }
                default -> { }
            }
        });
        page.call("Runtime.enable");
        page.call("Log.enable");
        page.call("Page.enable");
        page.call("Emulation.setDeviceMetricsOverride", HeadlessChromium.params().put("width", 1280).put("height", 720)
                .put("deviceScaleFactor", 1).put("mobile", false));
        page.call("Page.navigate", HeadlessChromium.params().put("url", s.url() + "/"));
        return problems;
    }

    /** The assistant's text so far, after giving the page up to {@code millis} to show it. */
    private static String awaitText(HeadlessChromium page, long millis) throws InterruptedException {
        long until = System.nanoTime() + millis * 1_000_000;
        String text;
        do {
            text = page.eval("(document.querySelector('.msg.assistant .content') || {}).textContent || ''").asText();
            if (!text.isEmpty()) return text;
            Thread.sleep(20);
        } while (System.nanoTime() < until);
        return text;
    }
}

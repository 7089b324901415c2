package io.chorus.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The page and its files: served without the key, told whether to ask for one, locked to this server's own files. */
class WebPageTest {

    @Test
    void thePageAndItsFilesLoadWithoutTheKeyAndThePageKnowsItMustAskForOne() {
        try (ChorusServer open = TestServers.start(o -> o); ChorusServer keyed = TestServers.start(o -> o.withApiKey("sk-page-test"))) {
            HttpResponse<String> page = TestServers.get(open, "/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(page.body()).contains("<meta name=\"chorus-auth\" content=\"none\">")
                    .contains("<script src=\"/static/chorus.js\" defer></script>").doesNotContain("{{");
            assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'none'")
                    .contains("script-src 'self'").contains("connect-src 'self'");
            assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");

            HttpResponse<String> keyedPage = TestServers.get(keyed, "/");
            assertThat(keyedPage.statusCode()).isEqualTo(200);
            assertThat(keyedPage.body()).contains("<meta name=\"chorus-auth\" content=\"required\">");
            HttpResponse<String> js = TestServers.get(keyed, "/static/chorus.js");
            assertThat(js.statusCode()).isEqualTo(200);
            assertThat(js.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
            assertThat(js.body()).contains("/v1/engine/status").contains("/v1/chat/completions");
            HttpResponse<String> css = TestServers.get(keyed, "/static/chorus.css");
            assertThat(css.statusCode()).isEqualTo(200);
            assertThat(css.headers().firstValue("Content-Type")).hasValue("text/css; charset=utf-8");

            ErrorsTest.error(TestServers.get(keyed, "/v1/engine/status"), 401);
            ErrorsTest.error(TestServers.get(open, "/static/nothing.js"), 404);
            ErrorsTest.error(TestServers.get(open, "/static/../pom.xml"), 404);
        }
    }
}

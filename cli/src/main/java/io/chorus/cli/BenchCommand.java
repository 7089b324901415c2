package io.chorus.cli;

import io.chorus.bench.serve.BenchConfig;
import io.chorus.bench.serve.BenchResult;
import io.chorus.bench.serve.BenchRunner;
import io.chorus.bench.serve.Charts;
import io.chorus.bench.serve.Endpoint;
import io.chorus.bench.serve.HtmlReport;
import io.chorus.bench.serve.ReportTable;
import io.chorus.bench.serve.ResultJson;
import io.chorus.bench.serve.ServerModels;
import io.chorus.bench.serve.StreamingClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus bench}: load-test any OpenAI-compatible server, or chart saved results side by side. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure throughput and latency of an OpenAI-compatible server under concurrent streaming load "
                + "(the figures of vllm bench serve). With --compare, chart saved result files together instead.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--base-url", defaultValue = "http://127.0.0.1:8000", description = "server URL, with or without /v1 (default: ${DEFAULT-VALUE})")
    String baseUrl;
    @Option(names = "--model", description = "model name to request (default: the first one GET /v1/models lists)")
    String model;
    @Option(names = "--endpoint", defaultValue = "completions", description = "completions (/v1/completions) or chat (/v1/chat/completions)")
    String endpoint;
    @Option(names = "--api-key", description = "sent as a Bearer token")
    String apiKey;

    @Option(names = "--num-prompts", defaultValue = "100", description = "requests per concurrency level (default: ${DEFAULT-VALUE})")
    int numPrompts;
    @Option(names = "--input-len", defaultValue = "256", description = "random prompt length in tokens (approximate, see docs/BENCH.md)")
    int inputLen;
    @Option(names = "--output-len", defaultValue = "128", description = "max_tokens of each request")
    int outputLen;
    @Option(names = "--range-ratio", defaultValue = "0", description = "lengths uniform in [len*(1-r), len*(1+r)]")
    double rangeRatio;
    @Option(names = "--prefix-len", defaultValue = "0", description = "tokens of prefix shared by every random prompt (exercises prefix caching)")
    int prefixLen;
    @Option(names = "--dataset", description = "JSONL file of {\"prompt\": ...} or {\"messages\": [...]} lines instead of random prompts")
    Path dataset;
    @Option(names = "--calibrate", description = "measure tokens per word with the server's POST /tokenize (Chorus, vLLM, llama.cpp)")
    boolean calibrate;

    @Option(names = "--max-concurrency", defaultValue = "0", description = "most requests in flight (0 = no limit)")
    int maxConcurrency;
    @Option(names = "--concurrency", split = ",", description = "sweep: run every level, e.g. 1,2,4,8,16,32")
    List<Integer> concurrency;
    @Option(names = "--request-rate", defaultValue = "inf", description = "requests per second, Poisson arrivals (default: inf, all at once)")
    String requestRate;
    @Option(names = "--burstiness", defaultValue = "1.0", description = "gamma shape of inter-arrival times: 1 = Poisson, <1 burstier")
    double burstiness;
    @Option(names = "--seed", defaultValue = "0")
    long seed;
    @Option(names = "--ignore-eos", description = "send ignore_eos: true so every request generates exactly max_tokens (vLLM, Chorus, llama.cpp)")
    boolean ignoreEos;
    @Option(names = "--temperature", defaultValue = "0")
    double temperature;
    @Option(names = "--timeout", defaultValue = "600", description = "seconds before an unfinished request counts as failed")
    double timeout;

    @Option(names = "--label", split = ",", description = "name of this run in charts; with --compare, one per file in order")
    List<String> labels;
    @Option(names = "--no-progress", description = "no progress bar (it is off anyway when stderr is not a terminal)")
    boolean noProgress;
    @Option(names = "--result-json", description = "write every figure and the settings to this file")
    Path resultJson;
    @Option(names = "--plot", description = "write a PNG: output throughput, per-user speed and TTFT against concurrency")
    Path plot;
    @Option(names = "--html", description = "write a self-contained HTML report")
    Path html;
    @Option(names = "--compare", arity = "1..*", description = "result JSON files to chart together (no benchmark is run)")
    List<Path> compare;

    @Override
    public Integer call() throws Exception {
        List<BenchResult> results = compare != null ? loadForCompare() : List.of(runBenchmark());
        System.out.println();
        System.out.print(ReportTable.sweep(results));
        if (plot != null) {
            Charts.writePng(results, plot);
            System.out.println("chart: " + plot);
        }
        if (html != null) {
            HtmlReport.write(results, html);
            System.out.println("report: " + html);
        }
        return 0;
    }

    private BenchResult runBenchmark() throws Exception {
        String m = model != null ? model : ServerModels.firstModel(baseUrl, apiKey);
        BenchConfig config = BenchConfig.builder(baseUrl, m)
                .endpoint(Endpoint.parse(endpoint)).apiKey(apiKey).numPrompts(numPrompts).inputLen(inputLen).outputLen(outputLen)
                .rangeRatio(rangeRatio).prefixLen(prefixLen).dataset(dataset != null ? dataset.toString() : null)
                .maxConcurrency(maxConcurrency).concurrencyLevels(concurrency).requestRate(parseRate(requestRate))
                .burstiness(burstiness).seed(seed).ignoreEos(ignoreEos).temperature(temperature).calibrate(calibrate)
                .timeoutSeconds(timeout).label(labels != null && !labels.isEmpty() ? labels.get(0) : null).progress(!noProgress)
                .build();
        System.err.println("benchmarking " + config.model() + " at " + StreamingClient.root(config.baseUrl()) + config.endpoint().path);
        BenchResult result = BenchRunner.run(config, level -> System.out.print(ReportTable.level(level)), System.err::println);
        if (resultJson != null) {
            ResultJson.write(result, resultJson);
            System.out.println("results: " + resultJson);
        }
        return result;
    }

    private List<BenchResult> loadForCompare() throws Exception {
        if (labels != null && !labels.isEmpty() && labels.size() != compare.size())
            throw new IllegalArgumentException("--label needs one label per --compare file (" + compare.size() + ")");
        List<BenchResult> out = new ArrayList<>();
        for (int i = 0; i < compare.size(); i++) {
            BenchResult r = ResultJson.read(compare.get(i));
            if (labels != null && !labels.isEmpty()) r = r.withLabel(labels.get(i));
            else if (r.label() == null) r = r.withLabel(compare.get(i).getFileName().toString().replaceFirst("\\.json$", ""));
            out.add(r);
        }
        return out;
    }

    static double parseRate(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("inf") || t.equals("infinity")) return Double.POSITIVE_INFINITY;
        return Double.parseDouble(t);
    }
}

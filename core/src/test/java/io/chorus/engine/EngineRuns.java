package io.chorus.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.engine.api.EngineRequest;
import io.chorus.engine.api.RequestHandle;
import io.chorus.engine.api.RequestOutput;
import io.chorus.engine.kv.BlockPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/** Drives an engine loop on the test's thread until every request is done, collecting each output's tokens. */
final class EngineRuns {
    private EngineRuns() {}

    /**
     * Submits the requests, steps until nothing is alive, checks that no output carried an error and that every
     * KV block is free again; returns completion tokens by request id, or by "id/index" when {@code byIndex}.
     */
    static Map<String, int[]> runToCompletion(EngineLoop loop, List<EngineRequest> requests, boolean byIndex) {
        Map<String, RequestHandle> handles = new LinkedHashMap<>();
        for (EngineRequest r : requests) handles.put(r.requestId(), loop.submit(r));
        Map<String, List<Integer>> tokens = new LinkedHashMap<>();
        for (int guard = 0; loop.step() || loop.hasLiveRequests(); guard++) {
            if (guard > 100_000) throw new AssertionError("engine did not finish");
            drain(handles, tokens, byIndex);
        }
        drain(handles, tokens, byIndex);
        BlockPool blocks = loop.scheduler().kv().pool();
        assertThat(blocks.numFreeBlocks()).as("every block free once no request is alive").isEqualTo(blocks.numBlocks());
        Map<String, int[]> out = new LinkedHashMap<>();
        tokens.forEach((k, v) -> out.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
        return out;
    }

    private static void drain(Map<String, RequestHandle> handles, Map<String, List<Integer>> tokens, boolean byIndex) {
        for (var e : handles.entrySet()) {
            try {
                for (RequestOutput o; (o = e.getValue().next(Duration.ZERO)) != null; ) {
                    assertThat(o.error()).isNull();
                    String key = byIndex ? e.getKey() + "/" + o.index() : e.getKey();
                    List<Integer> t = tokens.computeIfAbsent(key, k -> new ArrayList<>());
                    for (int id : o.newTokenIds()) t.add(id);
                }
            } catch (TimeoutException empty) {
                // nothing more this step
            } catch (InterruptedException ie) {
                throw new AssertionError(ie);
            }
        }
    }
}

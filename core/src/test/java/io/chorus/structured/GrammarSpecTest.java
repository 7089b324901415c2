package io.chorus.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.engine.api.InvalidRequestException;
import io.chorus.engine.api.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GrammarSpecTest {

    @Test
    void specsAreEqualByKindAndContent() {
        assertThat(GrammarSpec.jsonSchema("{\"type\":\"string\"}")).isEqualTo(GrammarSpec.jsonSchema("{\"type\":\"string\"}"))
                .hasSameHashCodeAs(GrammarSpec.jsonSchema("{\"type\":\"string\"}"));
        assertThat(GrammarSpec.regex("a+")).isNotEqualTo(GrammarSpec.gbnf("a+"));
        assertThat(GrammarSpec.jsonObject()).isEqualTo(GrammarSpec.jsonObject());
        List<String> choices = new ArrayList<>(List.of("yes", "no"));
        GrammarSpec c = GrammarSpec.choice(choices);
        choices.add("maybe"); // the spec keeps its own copy: a cache key must not change
        assertThat(c).isEqualTo(GrammarSpec.choice(List.of("yes", "no")));
    }

    @Test
    void emptySpecsAreRefused() {
        assertThatThrownBy(() -> GrammarSpec.regex("")).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> GrammarSpec.choice(List.of())).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void samplingParamsCarryTheGrammarThroughTheBuilder() {
        SamplingParams p = SamplingParams.builder().grammar(GrammarSpec.regex("[0-9]+")).build();
        assertThat(p.grammar()).isEqualTo(GrammarSpec.regex("[0-9]+"));
        assertThat(p.toBuilder().build().grammar()).isEqualTo(p.grammar());
        assertThat(SamplingParams.greedy(4).grammar()).isNull();
    }
}

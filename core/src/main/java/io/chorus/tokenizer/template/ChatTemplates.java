package io.chorus.tokenizer.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Built-in templates and helpers for preparing chat messages. */
public final class ChatTemplates {
    private ChatTemplates() {}

    /** The ChatML template transformers used as a default, for models that ship no chat template. */
    public static final String CHATML = "{%- for message in messages %}"
            + "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
            + "{%- endfor %}"
            + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    /**
     * Returns copies of {@code messages} in which a content given as a list of parts
     * ({@code [{"type":"text","text":"..."}]}) becomes one string: the text parts joined with
     * {@code separator}. For templates that expect string content; templates that understand part
     * lists should get the messages unchanged. Non-text parts are dropped; other fields are kept.
     */
    public static List<Map<String, Object>> flattenTextContent(List<? extends Map<String, ?>> messages, String separator) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (Map<String, ?> message : messages) {
            Map<String, Object> copy = new LinkedHashMap<>(message);
            if (message.get("content") instanceof List<?> parts) {
                List<String> texts = new ArrayList<>();
                for (Object part : parts) {
                    if (part instanceof Map<?, ?> p && "text".equals(p.get("type")) && p.get("text") instanceof String t) {
                        texts.add(t);
                    } else if (part instanceof String s) {
                        texts.add(s);
                    }
                }
                copy.put("content", String.join(separator, texts));
            }
            out.add(copy);
        }
        return out;
    }
}

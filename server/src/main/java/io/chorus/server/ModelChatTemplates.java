package io.chorus.server;

import io.chorus.model.checkpoint.Checkpoint;
import io.chorus.tokenizer.template.ChatTemplate;
import io.chorus.tokenizer.template.ChatTemplates;
import io.chorus.tokenizer.template.TemplateException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The chat templates a served model renders with: the default one, and the {@code tool_use} one when
 * the model ships it (Hermes, Command-R), which serves requests that pass tools, as transformers'
 * apply_chat_template and llama-server choose. {@code --chat-template FILE} replaces both.
 *
 * @param defaultTemplate renders every request without tools (and those with, when there is no toolUse)
 * @param toolUse         renders requests with tools; null when the model has none or it was overridden
 */
record ModelChatTemplates(ChatTemplate defaultTemplate, ChatTemplate toolUse) {
    private static final Logger LOG = Logger.getLogger(ModelChatTemplates.class.getName());

    /** Only this template, for every request. */
    static ModelChatTemplates of(ChatTemplate only) {
        return new ModelChatTemplates(only, null);
    }

    /**
     * The override file when given, else the model's named templates ({@code fromModel}, as
     * {@link Checkpoint#chatTemplates()} gives them). A model with only a tool_use template renders
     * every request with it; one without a usable default otherwise gets ChatML; a tool_use template
     * that does not compile is left out (llama-server does all three), with a warning.
     */
    static ModelChatTemplates resolve(Path override, Map<String, String> fromModel) {
        if (override != null) {
            String source;
            try {
                source = Files.readString(override);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --chat-template " + override + ": " + e.getMessage(), e);
            }
            try {
                LOG.info("chat template: " + override + (fromModel.isEmpty() ? "" : " (instead of the model's " + String.join(", ", fromModel.keySet()) + ")"));
                return of(ChatTemplate.compile(source));
            } catch (TemplateException e) {
                throw new IllegalArgumentException("--chat-template " + override + ": " + e.getMessage(), e);
            }
        }
        if (!fromModel.isEmpty()) LOG.info("chat templates: " + String.join(", ", fromModel.keySet()));
        String source = fromModel.get(Checkpoint.DEFAULT_TEMPLATE);
        String tools = fromModel.get(Checkpoint.TOOL_USE_TEMPLATE);
        ChatTemplate toolUse = tools == null || tools.isBlank() ? null : compileOrNull(tools, "tool_use chat template", "requests with tools use the default");
        ChatTemplate main = null;
        if ((source == null || source.isBlank()) && toolUse != null) {
            // As llama-server: a model whose only template is tool_use renders every request with it.
            LOG.info("the model has only a tool_use chat template; every request renders with it");
            return new ModelChatTemplates(toolUse, toolUse);
        }
        if (source == null || source.isBlank()) {
            LOG.warning("the model has no chat template (tokenizer.chat_template); using ChatML. Pass --chat-template FILE to choose one.");
        } else {
            main = compileOrNull(source, "chat template", "using ChatML");
        }
        if (main == null) main = ChatTemplate.compile(ChatTemplates.CHATML);
        return new ModelChatTemplates(main, toolUse);
    }

    /** The compiled template, or null (with a warning saying what happens {@code instead}) when it does not compile. */
    private static ChatTemplate compileOrNull(String source, String what, String instead) {
        try {
            return ChatTemplate.compile(source);
        } catch (TemplateException e) {
            LOG.warning("the model's " + what + " does not compile (" + e.getMessage() + "); " + instead);
            return null;
        }
    }

    /** The template for a request: tool_use when it passes tools and the model has one, else the default. */
    ChatTemplate forRequest(boolean hasTools) {
        return hasTools && toolUse != null ? toolUse : defaultTemplate;
    }
}

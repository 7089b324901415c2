package io.chorus.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Set;

/**
 * Reads one complete call object, {@code {"name": "f", "arguments": {...}}}, with Jackson. The
 * arguments come back as the exact text the model wrote (not re-serialised), so a streamed call and
 * a parsed one carry the same string.
 */
final class CallObject {
    private static final JsonFactory JSON = new JsonFactory();

    private CallObject() {}

    /** The name and arguments text, or null when {@code raw} is not exactly one valid call object. */
    static String[] parse(String raw, Set<String> argumentKeys) {
        try (JsonParser p = JSON.createParser(raw)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            String name = null;
            String args = null;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                if (key.equals("name") && name == null) {
                    if (v != JsonToken.VALUE_STRING) return null;
                    name = p.getText();
                } else if (argumentKeys.contains(key) && args == null) {
                    if (v == JsonToken.START_OBJECT) {
                        int from = (int) p.currentTokenLocation().getCharOffset();
                        p.skipChildren();
                        args = raw.substring(from, (int) p.currentLocation().getCharOffset());
                    } else if (v == JsonToken.VALUE_STRING && isObject(p.getText())) {
                        args = p.getText(); // some models write the arguments as a JSON string
                    } else {
                        return null;
                    }
                } else {
                    p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) return null;
            if (name == null || name.isEmpty() || args == null) return null;
            return new String[] {name, args};
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isObject(String text) {
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return false;
            p.skipChildren();
            return p.nextToken() == null;
        } catch (IOException e) {
            return false;
        }
    }
}

package io.chorus.tokenizer.template;

import java.util.List;
import java.util.Map;

/** Anything a template can call: globals, macros, bound string/dict methods. */
@FunctionalInterface
interface Callable {
    Object call(List<Object> args, Map<String, Object> kwargs);
}

package io.chorus.tokenizer.template;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;

/** An immutable list that prints like a Python tuple: {@code (1, 2)}, {@code (1,)}. */
final class PyTuple extends AbstractList<Object> {
    private final Object[] items;

    PyTuple(Object... items) {
        this.items = items.clone();
    }

    static PyTuple of(List<?> items) {
        return new PyTuple(items.toArray());
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }

    @Override
    public String toString() {
        return Arrays.toString(items);
    }
}

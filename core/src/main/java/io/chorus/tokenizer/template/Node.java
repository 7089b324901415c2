package io.chorus.tokenizer.template;

import java.util.List;

/** Template statements (the parsed body of a template). */
sealed interface Node {
    int line();

    record Text(String text, int line) implements Node {}

    record Output(Expr expr, int line) implements Node {}

    record Branch(Expr condition, List<Node> body) {}

    record If(List<Branch> branches, List<Node> orElse, int line) implements Node {}

    /** {@code for targets in iterable [if filter]} with an optional {@code else} body. */
    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> orElse, int line)
            implements Node {}

    /** {@code set name = value} or, with {@code attribute}, {@code set name.attribute = value}. */
    record Set(String name, String attribute, Expr value, int line) implements Node {}

    /** {@code set targets = a, b} tuple unpacking. */
    record SetMany(List<String> names, Expr value, int line) implements Node {}

    /** {@code {% set name %}body{% endset %}}. */
    record SetBlock(String name, List<Node> body, int line) implements Node {}

    record Macro(String name, List<String> params, List<Expr> defaults, List<Node> body, int line) implements Node {}

    /** {@code {% call macro(args) %}body{% endcall %}}: the body becomes {@code caller()}. */
    record CallBlock(Expr call, List<String> params, List<Node> body, int line) implements Node {}

    /** {@code {% filter name(args) %}body{% endfilter %}}. */
    record FilterBlock(Expr.Filter filter, List<Node> body, int line) implements Node {}

    /** A body with no effect of its own, e.g. transformers' {@code {% generation %}} marker. */
    record Block(List<Node> body, int line) implements Node {}

    record Do(Expr expr, int line) implements Node {}

    record Break(int line) implements Node {}

    record Continue(int line) implements Node {}
}

package io.chorus.tokenizer.template;

import java.util.List;
import java.util.Map;

/** Template expressions. */
sealed interface Expr {
    record Literal(Object value) implements Expr {}

    record Name(String name) implements Expr {}

    record ListLit(List<Expr> items) implements Expr {}

    /** Tuples are evaluated to immutable lists. */
    record TupleLit(List<Expr> items) implements Expr {}

    record DictLit(List<Expr> keys, List<Expr> values) implements Expr {}

    record GetAttr(Expr target, String name) implements Expr {}

    record GetItem(Expr target, Expr key) implements Expr {}

    /** {@code target[start:stop:step]}; absent parts are null. */
    record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {}

    record Call(Expr function, List<Expr> args, Map<String, Expr> kwargs) implements Expr {}

    /** {@code value | name(args)}; value is null inside a filter block. */
    record Filter(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr {}

    record Test(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr {}

    /** Unary {@code not}, {@code -}, {@code +}. */
    record Unary(String op, Expr operand) implements Expr {}

    /** Binary arithmetic, {@code ~}, {@code and}, {@code or}. */
    record Binary(String op, Expr left, Expr right) implements Expr {}

    /** Comparison chain {@code a < b <= c}, also {@code in} and {@code not in}. */
    record Compare(Expr first, List<String> ops, List<Expr> rest) implements Expr {}

    /** {@code then if condition else orElse}; orElse null gives Undefined. */
    record Cond(Expr condition, Expr then, Expr orElse) implements Expr {}
}

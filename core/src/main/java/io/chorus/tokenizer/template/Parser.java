package io.chorus.tokenizer.template;

import io.chorus.tokenizer.template.Token.Kind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Recursive-descent parser with Jinja2's grammar and operator precedence. */
final class Parser {
    private final List<Token> tokens;
    private int pos;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String source) {
        Parser p = new Parser(Lexer.tokenize(source));
        List<Node> body = p.parseBody(Set.of());
        if (p.peek().kind() != Kind.EOF) throw p.error("Unexpected '" + p.peek().value() + "'");
        return body;
    }

    // ---- statements ----

    /** Parses until EOF or a block tag named in {@code ends}; leaves the position at that tag's name. */
    private List<Node> parseBody(Set<String> ends) {
        List<Node> body = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!ends.isEmpty()) throw error("Unexpected end of template; expected one of " + ends);
                    return body;
                }
                case TEXT -> {
                    next();
                    body.add(new Node.Text(t.value(), t.line()));
                }
                case VAR_BEGIN -> {
                    next();
                    Expr e = parseTuple(true);
                    expect(Kind.VAR_END, "}}");
                    body.add(new Node.Output(e, t.line()));
                }
                case BLOCK_BEGIN -> {
                    Token name = tokens.get(pos + 1);
                    if (name.kind() == Kind.NAME && ends.contains(name.value())) {
                        next();
                        return body;
                    }
                    next();
                    body.add(parseStatement());
                }
                default -> throw error("Unexpected '" + t.value() + "'");
            }
        }
    }

    private Node parseStatement() {
        Token kw = next();
        if (kw.kind() != Kind.NAME) throw error("Expected a tag name", kw);
        int line = kw.line();
        switch (kw.value()) {
            case "if" -> {
                return parseIf(line);
            }
            case "for" -> {
                return parseFor(line);
            }
            case "set" -> {
                return parseSet(line);
            }
            case "macro" -> {
                return parseMacro(line);
            }
            case "call" -> {
                return parseCall(line);
            }
            case "filter" -> {
                Expr.Filter f = parseFilter(null);
                expect(Kind.BLOCK_END, "%}");
                List<Node> body = parseBody(Set.of("endfilter"));
                endTag();
                return new Node.FilterBlock(f, body, line);
            }
            case "generation" -> {
                expect(Kind.BLOCK_END, "%}");
                List<Node> body = parseBody(Set.of("endgeneration"));
                endTag();
                return new Node.Block(body, line);
            }
            case "do" -> {
                Expr e = parseTuple(true);
                expect(Kind.BLOCK_END, "%}");
                return new Node.Do(e, line);
            }
            case "break" -> {
                expect(Kind.BLOCK_END, "%}");
                return new Node.Break(line);
            }
            case "continue" -> {
                expect(Kind.BLOCK_END, "%}");
                return new Node.Continue(line);
            }
            default -> throw error("Encountered unknown tag '" + kw.value() + "'", kw);
        }
    }

    /** Consumes the end tag name (already peeked by parseBody) and its closing %}. */
    private void endTag() {
        next();
        expect(Kind.BLOCK_END, "%}");
    }

    private Node parseIf(int line) {
        List<Node.Branch> branches = new ArrayList<>();
        List<Node> orElse = List.of();
        Expr cond = parseTuple(true);
        while (true) {
            expect(Kind.BLOCK_END, "%}");
            List<Node> body = parseBody(Set.of("elif", "else", "endif"));
            branches.add(new Node.Branch(cond, body));
            String tag = next().value();
            if (tag.equals("elif")) {
                cond = parseTuple(true);
                continue;
            }
            if (tag.equals("else")) {
                expect(Kind.BLOCK_END, "%}");
                orElse = parseBody(Set.of("endif"));
                endTag();
            } else {
                expect(Kind.BLOCK_END, "%}");
            }
            return new Node.If(branches, orElse, line);
        }
    }

    private Node parseFor(int line) {
        List<String> targets = new ArrayList<>();
        boolean paren = accept(Kind.OP, "(");
        do {
            targets.add(expectName());
        } while (accept(Kind.OP, ","));
        if (paren) expect(Kind.OP, ")");
        if (!next().isName("in")) throw error("Expected 'in' in for loop");
        Expr iterable = parseTuple(false);
        Expr filter = null;
        if (accept(Kind.NAME, "if")) filter = parseExpression(true);
        if (peek().isName("recursive")) throw error("Recursive loops are not supported");
        expect(Kind.BLOCK_END, "%}");
        List<Node> body = parseBody(Set.of("else", "endfor"));
        List<Node> orElse = List.of();
        if (next().value().equals("else")) {
            expect(Kind.BLOCK_END, "%}");
            orElse = parseBody(Set.of("endfor"));
            endTag();
        } else {
            expect(Kind.BLOCK_END, "%}");
        }
        return new Node.For(targets, iterable, filter, body, orElse, line);
    }

    private Node parseSet(int line) {
        String name = expectName();
        if (accept(Kind.OP, ".")) {
            String attr = expectName();
            expect(Kind.OP, "=");
            Expr value = parseTuple(true);
            expect(Kind.BLOCK_END, "%}");
            return new Node.Set(name, attr, value, line);
        }
        if (peek().isOp(",")) {
            List<String> names = new ArrayList<>(List.of(name));
            while (accept(Kind.OP, ",")) names.add(expectName());
            expect(Kind.OP, "=");
            Expr value = parseTuple(true);
            expect(Kind.BLOCK_END, "%}");
            return new Node.SetMany(names, value, line);
        }
        if (accept(Kind.OP, "=")) {
            Expr value = parseTuple(true);
            expect(Kind.BLOCK_END, "%}");
            return new Node.Set(name, null, value, line);
        }
        expect(Kind.BLOCK_END, "%}");
        List<Node> body = parseBody(Set.of("endset"));
        endTag();
        return new Node.SetBlock(name, body, line);
    }

    private Node parseMacro(int line) {
        String name = expectName();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        parseSignature(params, defaults);
        expect(Kind.BLOCK_END, "%}");
        List<Node> body = parseBody(Set.of("endmacro"));
        endTag();
        return new Node.Macro(name, params, defaults, body, line);
    }

    private void parseSignature(List<String> params, List<Expr> defaults) {
        expect(Kind.OP, "(");
        while (!accept(Kind.OP, ")")) {
            if (!params.isEmpty()) expect(Kind.OP, ",");
            if (accept(Kind.OP, ")")) break;
            params.add(expectName());
            if (accept(Kind.OP, "=")) defaults.add(parseExpression(true));
            else if (!defaults.isEmpty()) throw error("Non-default argument follows default argument");
            else defaults.add(null);
        }
    }

    private Node parseCall(int line) {
        List<String> params = new ArrayList<>();
        if (peek().isOp("(")) parseSignature(params, new ArrayList<>());
        Expr call = parseExpression(true);
        if (!(call instanceof Expr.Call)) throw error("Expected a call in call block");
        expect(Kind.BLOCK_END, "%}");
        List<Node> body = parseBody(Set.of("endcall"));
        endTag();
        return new Node.CallBlock(call, params, body, line);
    }

    // ---- expressions (precedence follows jinja2/parser.py) ----

    /** An expression, or a bare tuple {@code a, b} when commas follow. */
    private Expr parseTuple(boolean withCondExpr) {
        Expr first = withCondExpr ? parseExpression(true) : parseOr();
        if (!peek().isOp(",")) return first;
        List<Expr> items = new ArrayList<>(List.of(first));
        while (accept(Kind.OP, ",")) {
            if (atTupleEnd()) break;
            items.add(withCondExpr ? parseExpression(true) : parseOr());
        }
        return new Expr.TupleLit(items);
    }

    private boolean atTupleEnd() {
        Token t = peek();
        return t.kind() == Kind.VAR_END || t.kind() == Kind.BLOCK_END || t.isOp(")") || t.isName("if")
                || t.kind() == Kind.EOF;
    }

    private Expr parseExpression(boolean withCondExpr) {
        return withCondExpr ? parseCondExpr() : parseOr();
    }

    private Expr parseCondExpr() {
        Expr expr = parseOr();
        while (accept(Kind.NAME, "if")) {
            Expr cond = parseOr();
            Expr orElse = accept(Kind.NAME, "else") ? parseCondExpr() : null;
            expr = new Expr.Cond(cond, expr, orElse);
        }
        return expr;
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (accept(Kind.NAME, "or")) left = new Expr.Binary("or", left, parseAnd());
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (accept(Kind.NAME, "and")) left = new Expr.Binary("and", left, parseNot());
        return left;
    }

    private Expr parseNot() {
        if (accept(Kind.NAME, "not")) return new Expr.Unary("not", parseNot());
        return parseCompare();
    }

    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private Expr parseCompare() {
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && COMPARE_OPS.contains(t.value())) {
                next();
                ops.add(t.value());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && tokens.get(pos + 1).isName("in")) {
                pos += 2;
                ops.add("not in");
            } else {
                break;
            }
            rest.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(first, ops, rest);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (peek().isOp("+") || peek().isOp("-")) {
            String op = next().value();
            left = new Expr.Binary(op, left, parseConcat());
        }
        return left;
    }

    private Expr parseConcat() {
        Expr left = parseMath2();
        while (accept(Kind.OP, "~")) left = new Expr.Binary("~", left, parseMath2());
        return left;
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            String op = next().value();
            left = new Expr.Binary(op, left, parsePow());
        }
        return left;
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (accept(Kind.OP, "**")) left = new Expr.Binary("**", left, parseUnary(true));
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
        Expr node;
        if (accept(Kind.OP, "-")) node = new Expr.Unary("-", parseUnary(false));
        else if (accept(Kind.OP, "+")) node = new Expr.Unary("+", parseUnary(false));
        else node = parsePostfix(parsePrimary());
        return withFilter ? parseFilterExpr(node) : node;
    }

    private Expr parsePrimary() {
        Token t = next();
        switch (t.kind()) {
            case NAME -> {
                return switch (t.value()) {
                    case "true", "True" -> new Expr.Literal(Boolean.TRUE);
                    case "false", "False" -> new Expr.Literal(Boolean.FALSE);
                    case "none", "None" -> new Expr.Literal(null);
                    default -> new Expr.Name(t.value());
                };
            }
            case STRING -> {
                StringBuilder sb = new StringBuilder(t.value());
                while (peek().kind() == Kind.STRING) sb.append(next().value());
                return new Expr.Literal(sb.toString());
            }
            case INT -> {
                return new Expr.Literal(Long.parseLong(t.value()));
            }
            case FLOAT -> {
                return new Expr.Literal(Double.parseDouble(t.value()));
            }
            case OP -> {
                switch (t.value()) {
                    case "(" -> {
                        if (accept(Kind.OP, ")")) return new Expr.TupleLit(List.of());
                        Expr e = parseExpression(true);
                        if (peek().isOp(",")) {
                            List<Expr> items = new ArrayList<>(List.of(e));
                            while (accept(Kind.OP, ",")) {
                                if (peek().isOp(")")) break;
                                items.add(parseExpression(true));
                            }
                            e = new Expr.TupleLit(items);
                        }
                        expect(Kind.OP, ")");
                        return e;
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!accept(Kind.OP, "]")) {
                            if (!items.isEmpty()) expect(Kind.OP, ",");
                            if (accept(Kind.OP, "]")) break;
                            items.add(parseExpression(true));
                        }
                        return new Expr.ListLit(items);
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!accept(Kind.OP, "}")) {
                            if (!keys.isEmpty()) expect(Kind.OP, ",");
                            if (accept(Kind.OP, "}")) break;
                            keys.add(parseExpression(true));
                            expect(Kind.OP, ":");
                            values.add(parseExpression(true));
                        }
                        return new Expr.DictLit(keys, values);
                    }
                    default -> throw error("Unexpected '" + t.value() + "'", t);
                }
            }
            default -> throw error("Unexpected " + describe(t), t);
        }
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            if (accept(Kind.OP, ".")) {
                Token t = next();
                if (t.kind() == Kind.NAME) node = new Expr.GetAttr(node, t.value());
                else if (t.kind() == Kind.INT) node = new Expr.GetItem(node, new Expr.Literal(Long.parseLong(t.value())));
                else throw error("Expected attribute name", t);
            } else if (accept(Kind.OP, "[")) {
                node = parseSubscript(node);
            } else if (peek().isOp("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseSubscript(Expr target) {
        Expr[] parts = new Expr[3];
        int part = 0;
        boolean slice = false;
        while (!peek().isOp("]")) {
            if (accept(Kind.OP, ":")) {
                slice = true;
                if (++part > 2) throw error("Too many ':' in slice");
                continue;
            }
            if (parts[part] != null) throw error("Expected ']'");
            parts[part] = parseExpression(true);
        }
        next();
        if (!slice) {
            if (parts[0] == null) throw error("Expected subscript expression");
            return new Expr.GetItem(target, parts[0]);
        }
        return new Expr.Slice(target, parts[0], parts[1], parts[2]);
    }

    private Expr.Call parseCall(Expr function) {
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        parseArgs(args, kwargs);
        return new Expr.Call(function, args, kwargs);
    }

    private void parseArgs(List<Expr> args, Map<String, Expr> kwargs) {
        expect(Kind.OP, "(");
        boolean first = true;
        while (!accept(Kind.OP, ")")) {
            if (!first) {
                expect(Kind.OP, ",");
                if (accept(Kind.OP, ")")) break;
            }
            first = false;
            if (peek().kind() == Kind.NAME && tokens.get(pos + 1).isOp("=")) {
                String key = next().value();
                next();
                kwargs.put(key, parseExpression(true));
            } else {
                if (!kwargs.isEmpty()) throw error("Positional argument follows keyword argument");
                args.add(parseExpression(true));
            }
        }
    }

    private Expr parseFilterExpr(Expr node) {
        while (true) {
            if (peek().isOp("|")) {
                next();
                node = parseFilter(node);
            } else if (peek().isName("is")) {
                next();
                node = parseTest(node);
            } else if (peek().isOp("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr.Filter parseFilter(Expr value) {
        // Unknown filters fail when evaluated, not here: Jinja 3 accepts them in branches never taken.
        StringBuilder name = new StringBuilder(expectName());
        while (accept(Kind.OP, ".")) name.append('.').append(expectName());
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        if (peek().isOp("(")) parseArgs(args, kwargs);
        return new Expr.Filter(value, name.toString(), args, kwargs);
    }

    private static final Set<String> NOT_TEST_ARG = Set.of("else", "or", "and", "is", "if", "in", "not");

    private Expr parseTest(Expr value) {
        boolean negated = accept(Kind.NAME, "not");
        StringBuilder name = new StringBuilder(expectName());
        while (accept(Kind.OP, ".")) name.append('.').append(expectName());
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        Token t = peek();
        if (t.isOp("(")) {
            parseArgs(args, kwargs);
        } else if (t.kind() == Kind.STRING || t.kind() == Kind.INT || t.kind() == Kind.FLOAT || t.isOp("[")
                || t.isOp("{") || t.isOp("-") || (t.kind() == Kind.NAME && !NOT_TEST_ARG.contains(t.value()))) {
            // Jinja allows one bare argument: "x is divisibleby 3", "x is sameas none"
            args.add(parsePostfix(parsePrimary()));
        }
        Expr test = new Expr.Test(value, name.toString(), args, kwargs);
        return negated ? new Expr.Unary("not", test) : test;
    }

    // ---- token helpers ----

    private Token peek() {
        return tokens.get(pos);
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.kind() != Kind.EOF) pos++;
        return t;
    }

    private boolean accept(Kind kind, String value) {
        if (peek().is(kind, value)) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(Kind kind, String what) {
        Token t = peek();
        boolean ok = kind == Kind.OP || kind == Kind.NAME ? t.is(kind, what) : t.kind() == kind;
        if (!ok) throw error("Expected '" + what + "' but found " + describe(t), t);
        next();
    }

    private String expectName() {
        Token t = next();
        if (t.kind() != Kind.NAME) throw error("Expected a name but found " + describe(t), t);
        return t.value();
    }

    private static String describe(Token t) {
        return switch (t.kind()) {
            case EOF -> "end of template";
            case VAR_END -> "'}}'";
            case BLOCK_END -> "'%}'";
            case TEXT -> "template text";
            default -> "'" + t.value() + "'";
        };
    }

    private TemplateException error(String message) {
        return error(message, peek());
    }

    private TemplateException error(String message, Token at) {
        return new TemplateException("Template syntax error: " + message, at.line());
    }
}

"""Block arguments: `$name` and `${expression}` in spec values.

A tiny arithmetic language of its own (integers, floats, booleans, names, + - * / // %,
comparisons, and/or/not, if/min/max), parsed here token by token. Nothing in a spec is
ever handed to Python's eval.
"""
from __future__ import annotations

import math
import re

from cnncost.limits import MAX_COUNT, MAX_EXPR_CHARS, MAX_TEXT_CHARS

_TOKEN = re.compile(r"\s*(?:(\d+\.\d*|\d*\.\d+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|(//|==|!=|<=|>=|[-+*/%()<>,]))")
_WHOLE = re.compile(r"^\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")  # one reference, not `${a}${b}`
_INLINE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_FUNCTIONS = {"min": min, "max": max}


class ExprError(ValueError):
    """A bad expression; the caller adds the spec location."""


def has_reference(value) -> bool:
    return isinstance(value, str) and "$" in value


def substitute(value, env: dict):
    """`$x` or `${...}` as the whole value keeps the result's type (an argument's value is shared, not copied);
    inside text, results are spliced in, and the text made is refused once it passes MAX_TEXT_CHARS."""
    whole = _WHOLE.match(value)
    if whole:
        return evaluate(whole.group(1) if whole.group(1) is not None else whole.group(2), env)
    pieces, size, end = [], 0, 0
    for match in _INLINE.finditer(value):
        piece = _as_text(evaluate(match.group(1) or match.group(2), env))
        pieces += [value[end : match.start()], piece]
        size += match.start() - end + len(piece)
        end = match.end()
    pieces.append(value[end:])
    if size + len(value) - end > MAX_TEXT_CHARS:  # measured before joining: the pieces share their strings
        raise ExprError(f"text made from block arguments is over the limit of {MAX_TEXT_CHARS:,} characters")
    return "".join(pieces)


def _as_text(result) -> str:
    if isinstance(result, (list, dict)):
        raise ExprError("only numbers, true/false and text can be spliced into text, not a list or mapping")
    return str(result).lower() if isinstance(result, bool) else str(result)


def evaluate(source: str, env: dict):
    if len(source) > MAX_EXPR_CHARS:
        raise ExprError(f"expression longer than {MAX_EXPR_CHARS} characters")
    parser = _Parser(_tokenize(source), env)
    result = parser.expression()
    if parser.peek() is not None:
        raise ExprError(f"unexpected {parser.peek()!r} in expression {source!r}")
    return _number(result) if isinstance(result, (int, float)) and not isinstance(result, bool) else result


def _tokenize(source: str) -> list:
    tokens, pos = [], 0
    source = source.rstrip()
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match or match.end() == pos:
            raise ExprError(f"cannot read {source[pos:].strip()!r} in expression {source!r}")
        number, name, op = match.groups()
        if number is not None:
            tokens.append(("num", float(number) if "." in number else int(number)))
        elif name is not None:
            tokens.append(("name", name))
        else:
            tokens.append(("op", op))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive descent, lowest precedence first. Parentheses and calls nest at most MAX_NESTING deep and
    prefix `-` and `not` are counted in loops, so no expression can exhaust Python's stack."""

    MAX_NESTING = 32

    def __init__(self, tokens: list, env: dict):
        self.tokens, self.pos, self.env, self.depth = tokens, 0, env, -1  # the whole expression is level 0

    def peek(self):
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self):
        if self.pos >= len(self.tokens):
            raise ExprError("expression ends too early")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, op: str):
        kind, value = self.take()
        if value != op:
            raise ExprError(f"expected {op!r}, found {value!r}")

    def expression(self):
        self.depth += 1
        if self.depth > self.MAX_NESTING:
            raise ExprError(f"expression nested deeper than {self.MAX_NESTING} levels")
        left = self.conjunction()
        while self.peek() == "or":
            self.take()
            right = self.conjunction()
            left = _truth(left) or _truth(right)
        self.depth -= 1
        return left

    def conjunction(self):
        left = self.negation()
        while self.peek() == "and":
            self.take()
            right = self.negation()
            left = _truth(left) and _truth(right)
        return left

    def negation(self):
        count = self._prefixes("not")
        value = self.comparison()
        for _ in range(count):
            value = not _truth(value)
        return value

    def comparison(self):
        left = self.sum()
        if self.peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            right = self.sum()
            return _compare(op, left, right)
        return left

    def sum(self):
        left = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            right = self.product()
            left = _number(left) + _number(right) if op == "+" else _number(left) - _number(right)
        return left

    def product(self):
        left = self.unary()
        while self.peek() in ("*", "/", "//", "%"):
            op = self.take()[1]
            left = _arith(op, left, self.unary())
        return left

    def unary(self):
        count = self._prefixes("-")
        value = self.atom()
        for _ in range(count):
            value = -_number(value)
        return value

    def _prefixes(self, op: str) -> int:
        count = 0
        while self.peek() == op:
            self.take()
            count += 1
        return count

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return value
        if value == "(":
            result = self.expression()
            self.expect(")")
            return result
        if kind != "name":
            raise ExprError(f"unexpected {value!r}")
        if self.peek() == "(":
            return self.call(value)
        if value in ("true", "false"):
            return value == "true"
        if value not in self.env:
            known = ", ".join(sorted(self.env)) or "none"
            raise ExprError(f"unknown name {value!r} in expression (known: {known})")
        return self.env[value]

    def call(self, name: str):
        self.expect("(")
        args = [self.expression()]
        while self.peek() == ",":
            self.take()
            args.append(self.expression())
        self.expect(")")
        if name == "if":
            if len(args) != 3:
                raise ExprError("if(condition, then, else) takes 3 arguments")
            return args[1] if _truth(args[0]) else args[2]
        if name in _FUNCTIONS:
            return _FUNCTIONS[name]([_number(a) for a in args])
        raise ExprError(f"unknown function {name!r} (known: if, min, max)")


def _truth(value) -> bool:
    if not isinstance(value, (bool, int, float)):
        raise ExprError(f"{value!r} is not a true/false value")
    return bool(value)


def _number(value):
    """Every operand passes here, so bounding it keeps each result small enough to compute and print."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExprError(f"{value!r} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ExprError(f"the expression makes {value}, not a finite number")
    if abs(value) > MAX_COUNT:
        raise ExprError("a number in the expression is over the limit of 10^100")
    return value


def _compare(op: str, left, right) -> bool:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    left, right = _number(left), _number(right)
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _arith(op: str, left, right):
    left, right = _number(left), _number(right)
    if op == "*":
        return left * right
    if right == 0:
        raise ExprError("division by zero in expression")
    if op == "//":
        return left // right
    if op == "%":
        return left % right
    if isinstance(left, int) and isinstance(right, int) and left % right == 0:
        return left // right
    return left / right


def references(value: str) -> set[str]:
    """The names a `$…` text refers to, so an error can point where those arguments were given."""
    names = set()
    for match in _INLINE.finditer(value):
        names.update([match.group(2)] if match.group(2) else re.findall(r"[A-Za-z_][A-Za-z0-9_]*", match.group(1)))
    return names

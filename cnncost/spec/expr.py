"""Block arguments: `$name` and `${expression}` in spec values.

A tiny arithmetic language of its own (integers, floats, booleans, names, lists and indexing,
list comprehensions `[e for x in xs if c]`, range/len, + - * / // % **, comparisons, and/or/not,
if/require/min/max and the math functions in _MATH, and a spec's own `functions:`), parsed here token by token. Nothing in a spec is ever handed to
Python's eval. Limits (docs/design-space.md): 200 characters per expression, nesting 32 deep,
integers up to 10^100, exponents up to 1,000, lists of 10,000 items (made by range or a comprehension
too), and 100,000 evaluation steps per expression including every spec function it calls and every item a
range or comprehension makes; spec functions never recurse.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from cnncost.limits import MAX_COUNT, MAX_EXPR_CHARS, MAX_TEXT_CHARS

_TOKEN = re.compile(
    r"\s*(?:((?:\d+\.\d*|\d*\.\d+|\d+)(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|//|==|!=|<=|>=|[-+*/%()<>,\[\]]))"
)
_WHOLE = re.compile(r"^\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")  # one reference, not `${a}${b}`
_INLINE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_FUNCTIONS = {"min": min, "max": max}
# One-argument math; `round` is Python's: halves go to the even neighbour (round(2.5) == 2), and round(x, n)
# keeps n decimals. floor, ceil, int and round(x) give integers, so their results can be channel counts.
_MATH = {
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "int": int,
    "sqrt": math.sqrt,
    "log": math.log,
    "exp": math.exp,
    "abs": abs,
}
FUNCTIONS = "()"  # the env key holding a spec's `functions:` (not a name an expression can spell)
MAX_STEPS = 100_000
MAX_EXPONENT = 1_000
MAX_LIST = 10_000


@dataclass(frozen=True)
class Function:
    """A spec function: `make_divisible(v, d): max(d, int(v + d / 2) // d * d)`."""

    name: str
    params: tuple
    body: str


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


def evaluate(source: str, env: dict, budget: list | None = None, calls: tuple = ()):
    """`budget` is the steps left, shared with every spec function the expression calls; `calls` the chain of
    spec functions being evaluated, so one that calls itself (directly or not) is refused."""
    if len(source) > MAX_EXPR_CHARS:
        raise ExprError(f"expression longer than {MAX_EXPR_CHARS} characters")
    parser = _Parser(_tokenize(source), env, budget if budget is not None else [MAX_STEPS], calls)
    result = parser.expression()
    if parser.peek() is not None:
        raise ExprError(f"unexpected {parser.peek()!r} in expression {source!r}")
    return _number(result) if isinstance(result, (int, float)) and not isinstance(result, bool) else result


@functools.lru_cache(maxsize=4096)  # a sweep evaluates the same few expressions at every point
def _tokenize(source: str) -> tuple:
    tokens, pos = [], 0
    source = source.rstrip()
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match or match.end() == pos:
            raise ExprError(f"cannot read {source[pos:].strip()!r} in expression {source!r}")
        number, name, op = match.groups()
        if number is not None:
            tokens.append(("num", float(number) if "." in number or "e" in number.lower() else int(number)))
        elif name is not None:
            tokens.append(("name", name))
        else:
            tokens.append(("op", op))
        pos = match.end()
    return tuple(tokens)


class _Parser:
    """Recursive descent, lowest precedence first. Parentheses and calls nest at most MAX_NESTING deep and
    prefix `-` and `not` are counted in loops, so no expression can exhaust Python's stack."""

    MAX_NESTING = 32

    def __init__(self, tokens: list, env: dict, budget: list, calls: tuple):
        self.tokens, self.pos, self.env, self.depth = tokens, 0, env, -1  # the whole expression is level 0
        self.budget, self.calls = budget, calls

    def peek(self):
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _charge(self, steps: int):
        self.budget[0] -= steps
        if self.budget[0] < 0:
            raise ExprError(f"expression takes more than {MAX_STEPS:,} steps to evaluate (spec functions included)")

    def take(self):
        self._charge(1)
        if self.pos >= len(self.tokens):
            raise ExprError("expression ends too early")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, op: str):
        token_type, value = self.take()
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
        value = self.power()
        for _ in range(count):
            value = -_number(value)
        return value

    def power(self):
        """`a ** b ** c` is `a ** (b ** c)`, and `-2 ** 2` is -4, as in Python."""
        base = self.postfix()
        if self.peek() != "**":
            return base
        self.take()
        self.depth += 1
        if self.depth > self.MAX_NESTING:
            raise ExprError(f"expression nested deeper than {self.MAX_NESTING} levels")
        exponent = self.unary()
        self.depth -= 1
        return _power(base, exponent)

    def postfix(self):
        value = self.atom()
        while self.peek() == "[":
            self.take()
            index = self.expression()
            self.expect("]")
            value = _index(value, index)
        return value

    def _prefixes(self, op: str) -> int:
        count = 0
        while self.peek() == op:
            self.take()
            count += 1
        return count

    def atom(self):
        token_type, value = self.take()
        if token_type == "num":
            return value
        if value == "(":
            result = self.expression()
            self.expect(")")
            return result
        if value == "[":
            return self.list_literal()
        if token_type != "name":
            raise ExprError(f"unexpected {value!r}")
        if self.peek() == "(":
            return self.call(value)
        if value in ("true", "false"):
            return value == "true"
        if value not in self.env:
            known = ", ".join(sorted(name for name in self.env if name != FUNCTIONS)) or "none"
            raise ExprError(f"unknown name {value!r} in expression (known: {known})")
        return self.env[value]

    def list_literal(self) -> list:
        """`[a, b, c]`, or `[element for name in items if condition]`: the element and condition are kept as
        tokens and evaluated once per item, each evaluation charged to the same step budget."""
        closing, loop = self._scan_list(self.pos)
        if loop is not None:
            return self.comprehension(loop, closing)
        items = []
        while self.peek() != "]":
            if items:
                self.expect(",")
            items.append(self.expression())
            if len(items) > MAX_LIST:
                raise ExprError(f"a list longer than {MAX_LIST:,} items")
        self.take()
        return items

    def _scan_list(self, start: int) -> tuple:
        """(position of the `]` closing the list `start` is in, position of its `for` outside nested brackets or
        None). Each token looked at is a step, so rescanning inside a comprehension stays bounded."""
        level, loop = 0, None
        for pos in range(start, len(self.tokens)):
            self._charge(1)
            kind, value = self.tokens[pos]
            if kind == "op" and value in ("(", "["):
                level += 1
            elif kind == "op" and value in (")", "]"):
                if level == 0:
                    return pos, loop
                level -= 1
            elif level == 0 and loop is None and kind == "name" and value == "for":
                loop = pos
        raise ExprError("expression ends too early")

    def comprehension(self, loop: int, closing: int) -> list:
        element = self.tokens[self.pos : loop]
        if not element:
            raise ExprError("a list comprehension needs an element before 'for'")
        self.pos = loop + 1
        kind, name = self.take()
        if kind != "name" or name in ("true", "false", "for", "in", "if"):
            raise ExprError(f"expected a name after 'for', found {name!r}")
        if self.take()[1] != "in":
            raise ExprError(f"expected 'in' after 'for {name}'")
        items = self.expression()
        condition = ()
        if self.pos < closing and self.tokens[self.pos] == ("name", "if"):
            condition, self.pos = self.tokens[self.pos + 1 : closing], closing
            if not condition:
                raise ExprError("'if' in a list comprehension needs a condition")
        self.expect("]")
        if not isinstance(items, list):
            raise ExprError(f"{items!r} is not a list, so 'for {name} in' cannot go through it")
        env = dict(self.env)
        result = []
        for item in items:
            env[name] = item
            if condition and not _truth(self.sub(condition, env)):
                continue
            result.append(self.sub(element, env))
        return result

    def sub(self, tokens: tuple, env: dict):
        """Evaluate a piece of this expression (a comprehension's element or condition) with `env`."""
        parser = _Parser(tokens, env, self.budget, self.calls)
        parser.depth = self.depth
        value = parser.expression()
        if parser.peek() is not None:
            raise ExprError(f"unexpected {parser.peek()!r} in expression")
        return value

    def call(self, name: str):
        self.expect("(")
        if name == "require":
            return self.require()
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
        if name == "len":
            if len(args) != 1 or not isinstance(args[0], list):
                raise ExprError(f"len() takes one list, not {', '.join(map(repr, args))}")
            return len(args[0])
        if name == "range":
            return self.range_list(args)
        spec_functions = self.env.get(FUNCTIONS) or {}
        if name in spec_functions:
            return self.call_spec_function(spec_functions[name], args, spec_functions)
        if name in _MATH:
            return _math(name, args)
        known = ", ".join(["if", "require", "min", "max", "len", "range", *_MATH, *spec_functions])
        raise ExprError(f"unknown function {name!r} (known: {known})")

    def require(self):
        """`require(condition, value)`: the value, or an error quoting the condition and the values it read. The
        value is not computed when the condition fails, so a family can refuse parameters its formulas cannot take."""
        start = self.pos
        condition = self.expression()
        written = self.tokens[start : self.pos]
        if not _truth(condition):
            text = " ".join(str(value) for _, value in written)
            names = dict.fromkeys(value for kind, value in written if kind == "name" and value in self.env and value != FUNCTIONS)
            given = ", ".join(f"{name}={self.env[name]!r}" for name in names)
            raise ExprError(f"requirement not met: {text}" + (f" ({given})" if given else ""))
        self.expect(",")
        value = self.expression()
        self.expect(")")
        return value

    def range_list(self, args: list) -> list:
        """range(n) or range(start, stop), integers only; each item made is a step."""
        if not 1 <= len(args) <= 2 or any(isinstance(a, bool) or not isinstance(a, int) for a in args):
            raise ExprError(f"range() takes one or two integers (range(n), range(start, stop)), not {', '.join(map(repr, args))}")
        start, stop = (0, args[0]) if len(args) == 1 else args
        if stop - start > MAX_LIST:
            raise ExprError(f"range({', '.join(map(str, args))}) makes a list longer than {MAX_LIST:,} items")
        self._charge(max(0, stop - start))
        return list(range(start, stop))

    def call_spec_function(self, function: Function, args: list, spec_functions: dict):
        if function.name in self.calls:
            chain = " → ".join([*self.calls, function.name])
            raise ExprError(f"function {function.name!r} calls itself ({chain}); spec functions cannot recurse")
        if len(args) != len(function.params):
            raise ExprError(f"{function.name}() takes {len(function.params)} arguments ({', '.join(function.params)}), got {len(args)}")
        env = {**dict(zip(function.params, args)), FUNCTIONS: spec_functions}
        try:
            return evaluate(function.body, env, self.budget, (*self.calls, function.name))
        except RecursionError:  # a chain of distinct functions deep enough to reach Python's limit
            raise ExprError("spec functions call each other too deeply") from None


def _math(name: str, args: list):
    if name == "round" and len(args) == 2:
        digits = args[1]
        if isinstance(digits, bool) or not isinstance(digits, int) or abs(digits) > 100:
            raise ExprError(f"round(x, n) needs an integer n of at most 100, not {digits!r}")
        return round(_number(args[0]), digits)
    if len(args) != 1:
        raise ExprError(f"{name}() takes 1 argument, got {len(args)}")
    value = _number(args[0])
    try:
        result = _MATH[name](value)
    except (ValueError, OverflowError) as exc:
        raise ExprError(f"{name}({value!r}) cannot be computed ({exc})") from None
    return _number(result)


def _power(base, exponent):
    base, exponent = _number(base), _number(exponent)
    if abs(exponent) > MAX_EXPONENT:
        raise ExprError(f"exponent {exponent!r} is over the limit of {MAX_EXPONENT:,}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        if abs(base) > 1 and (abs(base).bit_length() - 1) * exponent > MAX_COUNT.bit_length():
            raise ExprError("a number in the expression is over the limit of 10^100")
        return _number(base**exponent)
    if base == 0 and exponent < 0:
        raise ExprError("division by zero in expression (0 to a negative power)")
    try:
        result = float(base) ** exponent
    except OverflowError:
        raise ExprError("a number in the expression is over the limit of 10^100") from None
    if isinstance(result, complex):
        raise ExprError(f"{base!r} ** {exponent!r} is not a real number")
    return result


def _index(value, index):
    if not isinstance(value, list):
        raise ExprError(f"{value!r} is not a list, so it cannot be indexed")
    if isinstance(index, bool) or not isinstance(index, int):
        raise ExprError(f"a list index must be an integer, not {index!r}")
    if not -len(value) <= index < len(value):
        raise ExprError(f"index {index} is outside a list of {len(value)} items")
    return value[index]


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

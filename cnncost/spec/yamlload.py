"""Safe YAML loading that remembers where every key and value came from.

Only plain YAML data is accepted: mappings, sequences and scalars. Tags that would build
objects, duplicate keys and alias bombs are refused with the file:line:col of the problem.
"""
from __future__ import annotations

import math
import re

import yaml

from cnncost.errors import CnnCostError, Location
from cnncost.limits import MAX_SPEC_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# In any text: C0 controls but tab and newline, DEL, C1 (ESC and CSI start terminal escape sequences), and the
# Unicode line and paragraph separators, however YAML spells them ("\e", "\x9b", "\0", "\r", "\u2028").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_NAME_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # a name is one line: no tab or newline either


def name_control_character(name: str) -> str:
    """'U+000A' if a name holds a control character (a forged CI line, a terminal escape), else ''."""
    found = _NAME_CONTROL.search(name)
    return f"U+{ord(found.group()):04X}" if found else ""
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class LocDict(dict):
    """A mapping from a spec; knows the location of itself, its keys and its values."""

    loc: Location
    key_locs: dict
    value_locs: dict

    def key_loc(self, key) -> Location:
        return self.key_locs.get(key, self.loc)

    def value_loc(self, key) -> Location:
        return self.value_locs.get(key, self.loc)


class LocList(list):
    """A sequence from a spec; knows the location of itself and of each item."""

    loc: Location
    item_locs: list

    def item_loc(self, index: int) -> Location:
        return self.item_locs[index] if index < len(self.item_locs) else self.loc


def located(loc: Location, value):
    """Wrap plain data built in code (blocks, defaults) so it can stand where spec data stands."""
    if isinstance(value, dict) and not isinstance(value, LocDict):
        out = LocDict(value)
        out.loc, out.key_locs, out.value_locs = loc, {}, {}
        return out
    if isinstance(value, list) and not isinstance(value, LocList):
        out = LocList(value)
        out.loc, out.item_locs = loc, []
        return out
    return value


STDIN = "<stdin>"  # how a spec read from `-` is named in messages


def read_spec_text(path: str) -> str:
    """Read a spec file (or stdin, named STDIN) as text, turning every way that can fail into one clear message."""
    import os

    where = Location(path)
    if path == STDIN:
        import sys

        data = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:
            raise CnnCostError(f"spec is over the limit of {MAX_SPEC_BYTES:,} bytes", where, "split it or use blocks and repeat")
        return _decode(data, path)
    if os.path.isdir(path):
        raise CnnCostError("is a directory, not a spec file", where, "pass a .yaml file or a bundled name")
    try:
        size = os.path.getsize(path)
        if size > MAX_SPEC_BYTES:
            raise CnnCostError(
                f"spec is {size:,} bytes; the limit is {MAX_SPEC_BYTES:,}", where, "split it or use blocks and repeat"
            )
        with open(path, "rb") as handle:
            data = handle.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:  # a pipe or device reports no size up front
            raise CnnCostError(f"spec is over the limit of {MAX_SPEC_BYTES:,} bytes", where, "split it or use blocks and repeat")
    except FileNotFoundError:
        raise CnnCostError("no such file", where, "check the path, or run `cnncost list` for bundled specs") from None
    except PermissionError:
        raise CnnCostError("file is not readable (permission denied)", where) from None
    except OSError as exc:
        raise CnnCostError(f"cannot read file: {exc.strerror or exc}", where) from None
    return _decode(data, path)


def _decode(data: bytes, path: str) -> str:
    where = Location(path)
    if b"\x00" in data:
        raise CnnCostError("file is binary, not a YAML spec", where)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CnnCostError("file is not UTF-8 text", Location(path, line), "save it as UTF-8") from None


def load_yaml(text: str, filename: str):
    """Parse YAML text into LocDict/LocList/scalars, or raise CnnCostError with a location."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise CnnCostError("spec is empty", Location(filename, 1), "a spec needs at least `name`, `input` and `layers`")
        if "&" in text:  # no anchor, no alias: the converter's own count refuses an oversized tree, at the same node
            _refuse_alias_bombs(root, filename)
        return _Converter(loader, filename).convert(root, 0)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line = text.splitlines()[mark.line] if mark is not None and mark.line < len(text.splitlines()) else ""
        hint = "quote expressions inside {...}: '${a * 2}'" if "${" in line else None
        indent = line[: len(line) - len(line.lstrip())]
        if "\t" in indent and mark.column <= len(indent):
            problem, hint = "a tab is used for indentation; YAML allows only spaces there", "replace the tabs with spaces"
        raise CnnCostError(f"YAML syntax error: {problem}", _mark_loc(filename, mark), hint) from None
    except yaml.reader.ReaderError as exc:
        # The first occurrence of the character is the one refused: the reader stops at the first bad one.
        before = text[: max(text.find(chr(exc.character)), 0)]
        where = Location(filename, before.count("\n") + 1, len(before) - before.rfind("\n"))
        raise CnnCostError(f"YAML does not allow the control character U+{exc.character:04X}", where, "remove it") from None
    except yaml.YAMLError as exc:
        raise CnnCostError(f"YAML error: {exc}", Location(filename)) from None
    except RecursionError:
        raise CnnCostError(f"YAML nested too deeply (limit {MAX_YAML_DEPTH} levels)", Location(filename)) from None
    finally:
        loader.dispose()


def _mark_loc(filename: str, mark) -> Location:
    if mark is None:
        return Location(filename)
    return Location(filename, mark.line + 1, mark.column + 1)


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _refuse_alias_bombs(root, filename: str) -> None:
    """Count the nodes the tree expands to (an alias counts each time it is used) once per distinct node, so a
    billion-laughs file is refused in milliseconds instead of after converting a million nodes. The error names
    the node where the count passes the limit, as the converter would."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:  # iterative post-order: YAML nesting is only limited later, by the converter
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            open_nodes.discard(id(node))
        elif id(node) in open_nodes:
            return  # an anchor that contains itself: the converter reports it by its nesting depth
        else:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack += [(child, False) for child in children if id(child) not in sizes]
    if sizes[id(root)] <= MAX_YAML_NODES:
        return
    node, count = root, 0
    while True:
        count += 1
        if count > MAX_YAML_NODES:
            break
        for child in _children(node):
            if count + sizes[id(child)] <= MAX_YAML_NODES:
                count += sizes[id(child)]
            else:
                node = child
                break
    raise CnnCostError(
        f"spec expands to more than {MAX_YAML_NODES:,} YAML nodes (anchors/aliases count each time they are used)",
        _mark_loc(filename, node.start_mark),
        "use blocks and repeat instead of aliases",
    )


class _Converter:
    """Walks the composed node tree once, counting nodes so aliases cannot multiply work."""

    def __init__(self, loader, filename: str):
        self.loader = loader
        self.filename = filename
        self.count = 0

    def loc(self, node) -> Location:
        return _mark_loc(self.filename, node.start_mark)

    def convert(self, node, depth: int):
        self.count += 1
        if self.count > MAX_YAML_NODES:
            raise CnnCostError(
                f"spec expands to more than {MAX_YAML_NODES:,} YAML nodes (anchors/aliases count each time they are used)",
                self.loc(node),
                "use blocks and repeat instead of aliases",
            )
        if depth > MAX_YAML_DEPTH:
            raise CnnCostError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels", self.loc(node))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            return self.sequence(node, depth)
        return self.scalar(node)

    def scalar(self, node):
        try:
            value = self.loader.construct_object(node, deep=True)
            if isinstance(value, str) and _CONTROL.search(value):  # a name must not drive the terminal
                code = ord(_CONTROL.search(value).group())
                raise CnnCostError(f"text holds the control character U+{code:04X}", self.loc(node), "remove the escape")
            if isinstance(value, float) and not math.isfinite(value):
                raise CnnCostError(f"{node.value!r} is not a finite number", self.loc(node), "a spec holds finite numbers only")
            return value
        except yaml.constructor.ConstructorError:
            raise CnnCostError(
                f"YAML tag {node.tag!r} is not allowed; a spec holds plain data only", self.loc(node)
            ) from None
        except (ValueError, OverflowError, LookupError, AttributeError):
            # PyYAML's own scalar constructors on text they cannot read: `!!int abc`, `!!bool maybe`, `!!float ''`,
            # a date like 2024-13-45, an integer of 5,000 digits (Python refuses to convert it)
            tag_name = node.tag.rsplit(":", 1)[-1]
            shown = node.value if len(node.value) <= 40 else f"{node.value[:20]}…({len(node.value):,} characters)"
            raise CnnCostError(f"cannot read {shown!r} as {tag_name}", self.loc(node), "quote it if it is meant as text") from None

    def mapping(self, node, depth: int) -> LocDict:
        if node.tag != _MAP:
            raise CnnCostError(f"YAML tag {node.tag!r} is not allowed; a spec holds plain data only", self.loc(node))
        out = LocDict()
        out.loc, out.key_locs, out.value_locs = self.loc(node), {}, {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise CnnCostError("mapping keys must be plain names", self.loc(key_node))
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise CnnCostError("YAML merge keys (<<) are not supported", self.loc(key_node), "use blocks instead")
            key = self.scalar(key_node)
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if name_control_character(key):
                raise CnnCostError(f"key {key[:40]!r} holds the control character {name_control_character(key)}", self.loc(key_node), "remove it")
            if key in out:
                first = out.key_locs[key]
                raise CnnCostError(
                    f"duplicate key {key!r} (first at line {first.line})", self.loc(key_node), "remove one of them"
                )
            self.count += 1
            out[key] = self.convert(value_node, depth + 1)
            out.key_locs[key] = self.loc(key_node)
            out.value_locs[key] = self.loc(value_node)
        return out

    def sequence(self, node, depth: int) -> LocList:
        if node.tag != _SEQ:
            raise CnnCostError(f"YAML tag {node.tag!r} is not allowed; a spec holds plain data only", self.loc(node))
        out = LocList()
        out.loc, out.item_locs = self.loc(node), []
        for item in node.value:
            out.append(self.convert(item, depth + 1))
            out.item_locs.append(self.loc(item))
        return out

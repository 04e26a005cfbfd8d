"""`imports: [path/to/other.yaml, resnet]`: another spec's blocks, namespaced by its file's stem (`resnet.basic`).

A path is relative to the importing spec; a bare name is a bundled spec. An imported spec's own imports are
loaded too (so its blocks keep working), and inside its blocks, its own block names are rewritten to their
namespaced form. Cycles and missing files are errors naming the chain of files. Functions are not imported.
"""
from __future__ import annotations

import os

from cnncost.errors import CnnCostError
from cnncost.spec.yamlload import LocDict, LocList, load_yaml, read_spec_text


def imported_blocks(doc: LocDict, path: str, chain: tuple = ()) -> dict:
    """Namespaced block name → block definition, for every spec `doc` imports (transitively)."""
    listed = doc.get("imports")
    if listed is None:
        return {}
    if not isinstance(listed, LocList) or not all(isinstance(item, str) for item in listed):
        raise CnnCostError("`imports` must be a list of spec files or bundled names", doc.value_loc("imports"))
    chain = chain or (os.path.abspath(path),)
    blocks = {}
    for index, item in enumerate(listed):
        where = listed.item_loc(index)
        target = _locate(item, path, where, chain)
        if target in chain:
            raise CnnCostError("imports go round in a cycle: " + " → ".join([*chain, target]), where)
        other = load_yaml(read_spec_text(target), target)
        if not isinstance(other, LocDict):
            raise CnnCostError(f"imported spec {item!r} is not a mapping", where)
        stem = os.path.splitext(os.path.basename(target))[0]
        inner = imported_blocks(other, target, (*chain, target))
        own = other.get("blocks") or {}
        names = {name: f"{stem}.{name}" for name in own}
        blocks.update(inner)
        for name, block in own.items():
            blocks[names[name]] = _renamed(block, names)
    return blocks


def _locate(item: str, path: str, where, chain: tuple) -> str:
    relative = os.path.join(os.path.dirname(os.path.abspath(path)), item)
    if os.path.exists(relative):
        return os.path.abspath(relative)
    from cnncost.spec.bundled import bundled_dir

    bundled = bundled_dir() / f"{item}.yaml"
    if "/" not in item and bundled.is_file():
        return str(bundled.resolve())
    raise CnnCostError(f"imported spec {item!r} not found (imported by " + " → ".join(chain) + ")", where,
                       "give a path relative to the spec, or a bundled name")


def _renamed(block, names: dict):
    """The block with each layer naming one of its file's blocks pointed at the namespaced name."""
    if not isinstance(block, LocDict) or not isinstance(block.get("layers"), LocList):
        return block
    layers = LocList(_entry(entry, names) for entry in block["layers"])
    layers.loc, layers.item_locs = block["layers"].loc, block["layers"].item_locs
    out = LocDict(block)
    out.loc, out.key_locs, out.value_locs = block.loc, dict(block.key_locs), dict(block.value_locs)
    out["layers"] = layers
    return out


def _entry(entry, names: dict):
    if isinstance(entry, str):
        return names.get(entry, entry)
    if isinstance(entry, LocDict) and len(entry) == 1:
        ((op, params),) = entry.items()
        if op in names:
            out = LocDict({names[op]: params})
            out.loc = entry.loc
            out.key_locs = {names[op]: entry.key_loc(op)}
            out.value_locs = {names[op]: entry.value_loc(op)}
            return out
    return entry

"""Resource limits that keep any spec cheap to parse and analyse (documented in docs/conventions.md, "Limits")."""

MAX_SPEC_BYTES = 4 * 1024 * 1024  # a hand-written spec is a few KiB; 4 MiB leaves room for generated ones
MAX_YAML_NODES = 1_000_000  # after alias expansion; stops "billion laughs" documents
MAX_YAML_DEPTH = 64  # YAML nesting
MAX_BLOCK_DEPTH = 32  # blocks instantiating blocks
MAX_REPEAT = 10_000  # one repeat count
MAX_NODES = 100_000  # layers after expanding blocks and repeats; at the maximum `summary` takes seconds, not minutes
MAX_TEXT_CHARS = 10_000  # one value expansion produces: spliced text, or the items of a list (nested items count)
MAX_EXPANSION_WORK = 1_000_000  # steps of expansion (entries, layers, aliases, values made), summed: a few seconds
MAX_EXPR_CHARS = 200  # one ${...} expression
MAX_NAME_CHARS = 200  # a layer's full name (`stage.block.conv`); each node stores its own copy
MAX_COUNT = 10**100  # any shape dimension, count or byte figure: keeps every number printable and cheap

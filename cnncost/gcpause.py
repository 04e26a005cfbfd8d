"""Pausing the cyclic garbage collector while a spec is loaded, analysed or run."""
from __future__ import annotations

import functools
import gc


def gc_paused(function):
    """A run allocates many small acyclic objects; the cyclic GC would rescan them again and again,
    making big graphs quadratic. Reference counting frees them; the GC resumes when the call returns."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        collecting = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if collecting:
                gc.enable()

    return paused

"""The warehouse's SQL, kept in ``.sql`` files below this package and filled in here.

A file holds one statement, or one fragment several statements share (a CTE, say).
The parts that come from Python data (schema and table names, column lists, CASE
expressions built from tables of Xero codes, other fragments) are placeholders
``${name}``. Only that braced form is one: SQL's own ``$`` (``$1`` parameters, ``$$``
strings, ``'$.a'`` JSON paths) passes through untouched. Values bound at run time stay
``?`` parameters; placeholders are for SQL text only.

``load`` insists that the fragments given and the placeholders in the file are the
same set, so a missing or misspelt one fails at once, naming the file, instead of
producing SQL that fails later or quietly means something else.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources


class SqlTemplateError(ValueError):
    """A ``.sql`` file and the fragments given to fill it do not match."""


class _SqlTemplate(string.Template):
    # ``${name}`` only: the unbraced and escaped forms string.Template also knows can
    # never match ((?!) fails everywhere), so a lone ``$`` is SQL's, not ours.
    pattern = r"""
    \$(?:
      (?P<escaped>(?!)) |
      (?P<named>(?!)) |
      \{(?P<braced>[_a-z][_a-z0-9]*)\} |
      (?P<invalid>(?!))
    )
    """


@cache
def _template(name: str) -> tuple[_SqlTemplate, frozenset[str]]:
    path = resources.files(__name__).joinpath(f"{name}.sql")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SqlTemplateError(f"there is no SQL file {name}.sql in {__name__}") from None
    template = _SqlTemplate(text.strip())
    return template, frozenset(template.get_identifiers())


def load(name: str, /, **fragments: str) -> str:
    """The SQL of ``<name>.sql`` (``name`` relative to this package, e.g. ``ledger/trial_balance``)
    with every ``${placeholder}`` replaced by the fragment of that name."""
    template, wanted = _template(name)
    missing = sorted(wanted - fragments.keys())
    unused = sorted(fragments.keys() - wanted)
    if missing or unused:
        problems = []
        if missing:
            problems.append("no fragment given for " + ", ".join(f"${{{m}}}" for m in missing))
        if unused:
            problems.append(f"no placeholder for the fragment(s) {', '.join(unused)}")
        raise SqlTemplateError(f"{name}.sql: {'; '.join(problems)}")
    return template.substitute(fragments)

"""A stand-in for dbt's `adapter` object when sqlfluff's jinja templater renders the models.

sqlfluff (root pyproject.toml, `library_path`) has no dbt adapter, so `adapter.dispatch(name)`
would be undefined. Here a dispatched macro renders its DuckDB implementation (`duckdb__<name>`),
else its default one, whichever renders without a warehouse, and otherwise as a plain call
`name(arg, ...)`: valid SQL in every position the project uses them (expression or FROM item),
which is all the linter needs. A macro that reads a relation (`deduplicate`) renders as a
subquery over its first argument instead, so the linter sees the CTE it reads as used.
dbt itself never imports this module.
"""

from collections.abc import Callable
from contextlib import suppress

from jinja2 import pass_context
from jinja2.runtime import Context

# dispatched macros whose first argument is the relation they read
_RELATION_READERS = frozenset({"deduplicate"})


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
    @pass_context
    def render(context: Context, *args: object, **kwargs: object) -> str:
        if macro_name in _RELATION_READERS:
            return f"(select * from {args[0]})"
        for implementation in (f"duckdb__{macro_name}", f"default__{macro_name}"):
            macro = context.resolve_or_missing(implementation)
            if not callable(macro):
                continue
            with suppress(Exception):  # one that needs a warehouse or dbt's runtime: the next
                return str(macro(*args, **kwargs))
        rendered = [str(arg) for arg in (*args, *kwargs.values())]
        return f"{macro_name}({', '.join(rendered)})"

    return render


def type() -> str:
    return "duckdb"


def quote(identifier: str) -> str:
    return f'"{identifier}"'

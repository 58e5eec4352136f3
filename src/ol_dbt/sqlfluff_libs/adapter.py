"""A stand-in for dbt's `adapter` object when sqlfluff's jinja templater renders the models.

sqlfluff (root pyproject.toml, `library_path`) has no dbt adapter, so `adapter.dispatch(name)`
would be undefined. Here a dispatched macro renders as a plain call `name(arg, ...)`: valid SQL
in every position the project uses them (expression or FROM item), which is all the linter needs.
dbt itself never imports this module.
"""

from collections.abc import Callable


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
    def render(*args: object, **kwargs: object) -> str:
        rendered = [str(arg) for arg in (*args, *kwargs.values())]
        return f"{macro_name}({', '.join(rendered)})"

    return render


def type() -> str:
    return "duckdb"


def quote(identifier: str) -> str:
    return f'"{identifier}"'

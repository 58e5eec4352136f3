"""The project's own macro namespace for sqlfluff's jinja templater: `{{ ol_dbt.hash_pii(...) }}`.

dbt resolves `ol_dbt.<macro>` to the project's macro; sqlfluff's jinja templater knows the macros
of `load_macros_from_path` only by their bare names. Each `ol_dbt.<name>` here calls the macro of
that name from the template's own context, so a model renders the same with or without the
namespace. dbt itself never imports this module.
"""

from collections.abc import Callable
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context


def __getattr__(name: str) -> Callable[..., Any]:
    if name.startswith("__"):
        raise AttributeError(name)

    @pass_context
    def call(context: Context, *args: Any, **kwargs: Any) -> Any:
        macro = context.resolve_or_missing(name)
        if not callable(macro):
            raise NameError(f"ol_dbt.{name}: no macro of that name under src/ol_dbt/macros")
        return macro(*args, **kwargs)

    return call

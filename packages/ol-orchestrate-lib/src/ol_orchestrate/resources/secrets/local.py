"""The local secrets backend (dev and ci): a YAML file, with environment-variable fallback.

The file (default ``dg_deployments/local/secrets.yaml``, ``OL_SECRETS_FILE``) holds a nested
mapping whose path segments are the ``/``-separated parts of the secret path and whose leaf is a
mapping of key -> value::

    openedx:
      mitxonline:
        oauth:
          client_id: sandbox-mitxonline
          client_secret: sandbox-secret-mitxonline

Keys missing from the file fall back to environment variables named
``OL_SECRET__<PATH>__<KEY>``: ``PATH`` is the secret path upper-cased with ``/`` replaced by
``__`` and ``-`` by ``_``; ``KEY`` is the key upper-cased with ``-`` replaced by ``_``. For
example ``openedx/mitxonline/oauth`` key ``client_id`` is
``OL_SECRET__OPENEDX__MITXONLINE__OAUTH__CLIENT_ID``. Keys found only in the environment are
returned lower-cased.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ol_orchestrate.resources.secrets.common import SecretNotFoundError, stringify_secret

ENV_PREFIX = "OL_SECRET__"


def env_var_prefix(path: str) -> str:
    """`OL_SECRET__<PATH>__` for a secret path (see the module docstring)."""
    segment = path.strip("/").upper().replace("-", "_").replace("/", "__")
    return f"{ENV_PREFIX}{segment}__"


def env_var_name(path: str, key: str) -> str:
    """The environment variable the local backend consults for `key` of `path`."""
    return env_var_prefix(path) + key.upper().replace("-", "_")


class LocalSecretsBackend:
    """Secrets from a YAML file, with environment-variable fallback (dev and ci).

    The file is read on first use; a file that does not exist is treated as empty so that
    environment variables alone suffice (e.g. in CI).
    """

    def __init__(
        self, secrets_file: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None
    ) -> None:
        self.secrets_file = Path(secrets_file) if secrets_file is not None else None
        self._environ = environ
        self._tree: Mapping[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        where = str(self.secrets_file) if self.secrets_file else "no file"
        return f"local secrets ({where} or {ENV_PREFIX}* environment variables)"

    def _load(self) -> Mapping[str, Any]:
        with self._lock:
            if self._tree is None:
                tree: Any = {}
                if self.secrets_file is not None and self.secrets_file.is_file():
                    with self.secrets_file.open(encoding="utf-8") as fh:
                        tree = yaml.safe_load(fh) or {}
                if not isinstance(tree, Mapping):
                    msg = f"{self.secrets_file}: expected a mapping at the top level"
                    raise ValueError(msg)
                self._tree = tree
            return self._tree

    def _from_file(self, path: str) -> Mapping[str, Any] | None:
        node: Any = self._load()
        for segment in path.split("/"):
            if not isinstance(node, Mapping) or segment not in node:
                return None
            node = node[segment]
        if not isinstance(node, Mapping):
            return None
        # A leaf is a mapping of scalar values; nested mappings are deeper secret paths.
        leaf = {k: v for k, v in node.items() if not isinstance(v, Mapping)}
        return leaf or None

    def _from_env(self, path: str) -> dict[str, str]:
        environ = os.environ if self._environ is None else self._environ
        prefix = env_var_prefix(path)
        found: dict[str, str] = {}
        for name, value in environ.items():
            if name.startswith(prefix):
                key = name[len(prefix) :]
                if key and "__" not in key:
                    found[key.lower()] = value
        return found

    def get_secret(self, path: str) -> dict[str, str]:
        path = path.strip("/")
        merged = stringify_secret(self._from_file(path) or {})
        # The file wins; the environment supplies the keys the file lacks.
        in_file = {env_var_name(path, key) for key in merged}
        for key, value in self._from_env(path).items():
            if env_var_name(path, key) not in in_file:
                merged[key] = value
        if not merged:
            raise SecretNotFoundError(path, backend=self.description)
        return merged

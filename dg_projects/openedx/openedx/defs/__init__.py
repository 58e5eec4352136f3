"""The openedx location's definitions: one YAML component per deployment (`deployments/<name>/`)
and the asset builders it uses, one module per raw table."""

"""The legacy_openedx code location: the Open edX LMS database (MariaDB, Vault dynamic
credentials) extracted daily into the lake and delivered as IRx bundles, one YAML component per
deployment (`defs/deployments/<name>/defs.yaml`)."""

"""The legacy_openedx location's definitions: one `LegacyOpenEdxDeployment` component per LMS
database (`deployments/<name>/defs.yaml`); the builders are `legacy_openedx.extraction` (the raw
LMS tables) and `legacy_openedx.bundle` (the IRx bundle)."""

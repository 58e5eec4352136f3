"""The platform's failure alerts: the run-failure and asset-check-failure sensors and their
policy (`defs/alerts/defs.yaml` configures them per environment through `PlatformAlerts`)."""

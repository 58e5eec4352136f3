"""The edxorg location's definitions, one module per topic: `archives` (the weekly research data
archives, exploded into raw tables), `tracking_logs` (the daily tracking logs), `catalog` (the
Discovery API) and the `delivery/` component (the bucket and the catalog per environment)."""

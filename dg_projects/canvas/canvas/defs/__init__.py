"""The canvas location's definitions: one module per raw Canvas table (`<table>.py`), the Canvas
API resource (`resources.py`) and one YAML component per course registry (`course_registries/`)."""

"""The rule pack, imported as `auditor.rules` (see pyproject.toml): one module per family."""

"""sheets: see docs/architecture.md."""

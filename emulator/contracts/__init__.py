"""JSON Schema contracts, tracking plans and violations."""

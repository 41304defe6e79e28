"""The eight ASL state types, compiled: one module per family (flow, task, choice, composite)."""

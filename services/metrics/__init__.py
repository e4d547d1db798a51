"""The metrics collector: polls the stack's services and writes the pipeline bucket."""

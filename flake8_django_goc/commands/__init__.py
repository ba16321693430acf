"""The standalone command (``main``) and its subcommands: check, explain, fix-models."""

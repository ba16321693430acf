"""Stage 4, report: the command's output formats and the run's statistics."""

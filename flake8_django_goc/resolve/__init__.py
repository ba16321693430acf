"""Stage 2, resolve: which model and rows a call's receiver works on. No Django, no libcst."""

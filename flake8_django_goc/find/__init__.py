"""Stage 1, find: the text gate, then the calls of a file as plain records (libcst, no Django)."""

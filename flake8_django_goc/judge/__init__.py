"""Stage 3, judge: pure verdicts on a resolved call from the Schema alone. No Django, no libcst."""

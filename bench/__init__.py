"""Load scenarios, an SQL statement counter and a runner; results in RESULTS.md."""

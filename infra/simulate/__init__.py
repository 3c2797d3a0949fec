"""`make simulate`: the real handlers and scheduled jobs over a simulated period in in-process
moto, then invariants checked against the raw items (docs/kpis.md, "The simulated year")."""

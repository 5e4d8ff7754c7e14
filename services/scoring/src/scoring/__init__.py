"""metas scoring service: Scoring rules, evaluation runs with immutable snapshots, explanations and simulations."""

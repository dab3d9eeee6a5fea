"""Evaluation library: dataset schema, pure metric functions, runners. Data and reports live in evals/."""

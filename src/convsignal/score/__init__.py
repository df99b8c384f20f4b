"""Scoring: quantitative sub-score ⊕ qualitative sub-score → explained HealthScore."""

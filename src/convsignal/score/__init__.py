"""Scoring: quantitative sub-score ⊕ qualitative sub-score → explained HealthScore.

profile_model / profile   the versioned YAML profile (schema; loading, segments, errors)
measures, quantitative    metric snapshots → derived measures → 0..100 through curves
qualitative               conversation events → decayed, role- and confidence-weighted
combiner                  the composite, bands, drivers, confidence
expansion                 expansion readiness beside health
history                   trends vs. earlier snapshots, playbook triggers
overrides                 a CSM's score with reason, author and expiry
inputs, service           a streamed recompute: one page of accounts at a time
snapshots                 the rows a run stores
"""

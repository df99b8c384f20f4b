"""Evaluation: labelled datasets, metrics and reports. Sits on top of the layers (only
`cli` imports it); it calls the scrubber and the vanilla-Presidio baseline in `scrub`."""

"""Scoring a face model and its teachers on held-out data, and the model card that reports it."""

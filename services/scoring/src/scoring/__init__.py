"""Scoring: explainable customer scores, recalculated the moment feedback arrives."""

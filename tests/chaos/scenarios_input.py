"""Scenario 10: poison records written straight to the topic among valid orders."""
SCENARIOS = {}

"""Builders of test data shared by test modules."""

"""Guidance content: loading, Vietnamese normalisation, search."""

"""agribot: a Vietnamese chat service for circular agriculture."""

__version__ = "0.1.0"

"""motools: build and measure model organisms with cached, typed, provenance-tracked workflows."""

__version__ = "0.1.0"

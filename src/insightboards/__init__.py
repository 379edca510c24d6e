"""Insightboards: a self-hosted implementation of the Quantive Results Dashboards API."""

__version__ = "0.1.0"

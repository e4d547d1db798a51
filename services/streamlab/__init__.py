"""Shared code of StreamLab's Python services: settings and dataset specs."""

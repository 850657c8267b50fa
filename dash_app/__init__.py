"""The Dash dashboard city leaders browse: ``create_app(project)``."""

from dash_app.app import create_app

__all__ = ["create_app"]

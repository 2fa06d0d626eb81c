"""convviz's shipped data: presets/*.json, decks/*.json and images/*.png.

This folder is the package ``convviz_resources`` in an installed convviz (see
``[tool.setuptools]`` in pyproject.toml); read it through ``gui.models.resources``.
"""

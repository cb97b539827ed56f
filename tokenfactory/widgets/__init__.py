"""Notebook widgets (anywidget). ``base.GatewayWidget`` is the base every widget builds on;
``tf.Playground`` and ``tf.ModelLibrary`` resolve lazily from ``tokenfactory/__init__.py``."""

from ..extras import require_extra

require_extra("jupyter", "tokenfactory.widgets")

"""Marshmallow shapes: one family of strict fields (fields.py) and the shapes built from it."""

"""Secrets: values that never print, and (soon) where they come from."""

"""Dagster definitions, one folder per stage (raw → documents → extracted → released).

``dangjian.definitions`` loads this folder; nothing here reads the
environment at import time.
"""

"""Test doubles for services whose binaries cannot be installed on test machines.

Each double implements the documented HTTP API of the real service strictly and says
everywhere that it is a double. They never stand in for anything else (DESIGN.md, 8).
"""

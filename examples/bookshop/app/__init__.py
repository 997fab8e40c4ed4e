"""Bookshop API."""

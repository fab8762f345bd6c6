"""Tests of procurement."""

"""Visite guidée de subbill, en français (le code est dans ``subbill.tour``)."""

from subbill.tour import main

main()

"""The app's pages, one module each; every page module exports only ``render()``.

A page draws itself from the shared pieces of :mod:`hierdash.ui` and imports nothing
from here or from another page. Which pages there are, in what order, under what
title, icon and address, is the page table of :mod:`hierdash.ui.navigation`, which also
draws what surrounds every page (the menu and the class banner).
"""

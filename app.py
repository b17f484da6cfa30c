"""hierdash: set up a world, fit it, and watch hierarchical shrinkage happen.

Run with ``streamlit run app.py``. This file only assembles the app; each page is a
module of :mod:`hierdash.ui.pages`, built from the shared pieces of :mod:`hierdash.ui`,
and every computation is the engine's (:func:`hierdash.inference.fit`).

The explore page, top to bottom:

- **the sidebar**: the truth (parent, spread, noise, features), the data (presets, the
  tasks and their sample counts) and the fit (method, draws, parameterization, padding,
  seed), ending in one validated :class:`~hierdash.scenario.Scenario`;
- **the world** in one line, and a warning for anything in the link that could not be
  used;
- **the fit bar**: *Fit* samples with the chosen method in the background, a live
  progress display and *Stop* while it runs; the exact (closed-form) posterior needs
  no fitting and is shown at once;
- **the charts**, each with what to look at and what to try: parent weights, child
  weights, shrinkage (arrows, pull per task, errors of no / partial / complete
  pooling), the padded data with the noise and spread, and the diagnostics. They show
  the sampler's fit when this world has one, else the exact posterior (which then
  stays as grey ticks to check the sampler against);
- **downloads and the link**: every setting, the seed included, is in the URL, so a
  link reproduces a world.

The other pages (predict then reveal, the class board, your own data, the calibration
lab) are rows of the page table, :data:`hierdash.ui.navigation.PAGES`.

Fits are shared: results are kept by the whole scenario for every session, so thirty
students on one link cost one fit, and a fit already made appears without pressing
*Fit*. The first page load starts compiling the default model in the background.
"""

import streamlit as st

from hierdash.ui.navigation import frame, menu
from hierdash.ui.shared import start_warm_up

st.set_page_config(page_title="hierdash · partial pooling", page_icon=":material/compress:",
                   layout="wide")
start_warm_up()  # the default world's model compiles in the background, once per server

page = menu()  # the menu at the top: explore, predict, class board, your data, the lab
with frame():  # the class banner above every page; after it, the class code in the link
    page.run()

"""The user interface: the only layer besides ``app.py`` that imports Streamlit.

- :mod:`~hierdash.ui.navigation`: the page table, the menu and the frame around every
  page (the class banner);
- :mod:`~hierdash.ui.pages`: one module per page, each exporting ``render()``;
- :mod:`~hierdash.ui.controls`: the sidebar's widgets, ending in one scenario;
- :mod:`~hierdash.ui.state`: session state and the link (every setting in the URL);
- :mod:`~hierdash.ui.jobs`: one background job on a page (start, progress, Stop, its
  result or how it ended), used by the explore, your-data and calibration pages;
- :mod:`~hierdash.ui.fitting`: the explore page's Fit bar, progress and notices;
- :mod:`~hierdash.ui.fit_registry`: running and finished background jobs shared by
  every session, by key (no Streamlit in it);
- :mod:`~hierdash.ui.shared`: the process-wide caches and the compile warm-up;
- :mod:`~hierdash.ui.results`, :mod:`~hierdash.ui.diagnostics`: one fit's charts, words,
  downloads and link;
- :mod:`~hierdash.ui.words`: the teaching words, as Markdown files (``say``), and the
  one escaper of text that is not ours (``plain``);
- :mod:`~hierdash.ui.labels`: the names shown for methods and parameterizations.

Rules: worker threads never call ``st.*``; objects in ``st.cache_resource`` and the
fits in the registry are shared by every user and never mutated.

Import rule: Streamlit, NumPy and pandas; of the package any layer before it (the engine,
the summaries, own data, calibration, the classroom, the charts), never the command
line. Only this layer and ``app.py`` import Streamlit, and ``fit_registry`` does not
(worker threads share it).
"""

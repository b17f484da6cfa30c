"""The user interface: the only layer besides ``app.py`` that imports Streamlit.

- :mod:`~hierdash.ui.pages`: one module per page, listed for ``st.navigation``;
- :mod:`~hierdash.ui.controls`: the sidebar's widgets, ending in one scenario;
- :mod:`~hierdash.ui.state`: session state and the link (every setting in the URL);
- :mod:`~hierdash.ui.fitting`: Fit, Stop and the live progress of a sampling fit;
- :mod:`~hierdash.ui.fit_registry`: running and finished sampling fits shared by every
  session (no Streamlit in it);
- :mod:`~hierdash.ui.shared`: the process-wide caches and the compile warm-up;
- :mod:`~hierdash.ui.results`, :mod:`~hierdash.ui.diagnostics`: one fit's charts, words,
  downloads and link;
- :mod:`~hierdash.ui.words`: the teaching words, as Markdown files;
- :mod:`~hierdash.ui.labels`: the names shown for methods and parameterizations.

Rules: worker threads never call ``st.*``; objects in ``st.cache_resource`` and the
fits in the registry are shared by every user and never mutated.
"""

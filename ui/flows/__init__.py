"""What each page's buttons do, one module per page.

A flow moves values between ``st.session_state`` (keys in :class:`ui.state.StateKeys`) and
the ``churn_core.pipeline`` facade; every decision about the data is the library's.
Results kept between reruns are small frozen dataclasses, never tuples, and every
``*_PROBLEMS`` key holds a ``list[Problem]`` (or None).

- :mod:`ui.flows.data`: load a table (upload, sample, event-log build) and re-check it.
- :mod:`ui.flows.model`: train, and make an analysis the current one.
- :mod:`ui.flows.segments`: segment the loaded table or the trained analysis, with the
  user's columns and number of segments.
- :mod:`ui.flows.explore`: churn broken down by segment.
- :mod:`ui.flows.alerts`: what customers are worth, profit, the list preview, the band.
- :mod:`ui.flows.events`: use an event-log build as the table to train on.
- :mod:`ui.flows.monitor`: the monitoring history from the store.
"""

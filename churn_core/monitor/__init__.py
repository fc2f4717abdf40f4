"""Monitoring: scheduled scoring, what changed since the last run, drift, estimated
performance, alerts and retraining.

``profile.reference_profile`` and ``drift.compare`` measure drift against a
compact JSON reference; ``estimate`` gives ROC-AUC, precision and recall without
labels; ``runs`` stores runs in the shared store and diffs them; ``service``
runs one monitoring pass end to end for the command line and the dashboard.
"""

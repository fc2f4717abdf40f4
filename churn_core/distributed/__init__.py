"""Past one machine: training and scoring on partitioned Parquet with Dask (optional).

Dask is an extra (``pip install -r requirements-dask.txt``, or the ``dask`` extra of the
package); nothing here imports it at module level, so the base install imports this
package fine and a missing Dask becomes the ``DASK_NOT_INSTALLED`` problem when a
command asks for ``--engine dask``.

Modules: ``cluster.py`` (the Dask client: a scheduler address or a local cluster),
``parts.py`` (reading partitioned Parquet, the held-out split by hashed customer id,
the per-partition model frame), ``stats.py`` (preprocessing fitted from per-partition
summaries), ``histograms.py`` (ROC-AUC, PR-AUC and the best-F1 threshold from score
histograms), ``train.py``, ``score.py`` and ``cli.py`` (the command-line side).
"""
